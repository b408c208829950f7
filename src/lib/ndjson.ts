// Newline-delimited JSON read from a stream, one parsed object per line (blank lines skipped):
// the Engine API's progress streams, its image load answer and the daemon API's event streams.
export async function* ndjson<T = Record<string, unknown>>(stream: AsyncIterable<string | Buffer>): AsyncGenerator<T> {
  // streaming decode: a character of several bytes may be split across two chunks
  const utf8 = new TextDecoder();
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : utf8.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  buf += utf8.decode();
  if (buf.trim()) yield JSON.parse(buf) as T;
}
