// Newline-delimited JSON read from a stream, one parsed object per line (blank lines skipped):
// the Engine API's progress streams, its image load answer, the daemon API's event streams, and
// the protocol of berth's worker processes (jobs on their stdin, results on their stdout).
import { LineSplitter } from './lines.js';

export async function* ndjson<T = Record<string, unknown>>(stream: AsyncIterable<string | Buffer>): AsyncGenerator<T> {
  // streaming decode: a character of several bytes may be split across two chunks
  const utf8 = new TextDecoder();
  const lines = new LineSplitter();
  for await (const chunk of stream) {
    for (const line of lines.push(typeof chunk === 'string' ? chunk : utf8.decode(chunk, { stream: true }))) yield JSON.parse(line) as T;
  }
  for (const line of [...lines.push(utf8.decode()), ...lines.end()]) yield JSON.parse(line) as T;
}
