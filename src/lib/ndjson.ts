// Newline-delimited JSON read from a stream, one parsed object per line (blank lines skipped):
// the Engine API's progress streams and the daemon API's event streams.
export async function* ndjson<T = Record<string, unknown>>(stream: AsyncIterable<string | Buffer>): AsyncGenerator<T> {
  let buf = '';
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line) as T;
    }
  }
  if (buf.trim()) yield JSON.parse(buf) as T;
}
