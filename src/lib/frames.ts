// Docker's multiplexed stream format: frames of an 8-byte header (stream, 0, 0, 0, size as
// uint32 big-endian) and the payload. Docker uses streams 1 and 2 (stdout, stderr) in logs and
// attach; berth's `run -it` connection uses the same frames, with stream 0 for stdin and
// CONTROL for JSON messages (a resize, the result).
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const CONTROL = 3;

export function frame(stream: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

/** Splits a multiplexed stream's bytes into the whole frames there are and the partial one
 *  left for the next chunk. */
export function wholeFrames(pending: Buffer): { whole: Buffer | null; rest: Buffer } {
  let i = 0;
  while (i + 8 <= pending.length && i + 8 + pending.readUInt32BE(i + 4) <= pending.length) i += 8 + pending.readUInt32BE(i + 4);
  return { whole: i > 0 ? pending.subarray(0, i) : null, rest: pending.subarray(i) };
}

/** The frames in whole frames' bytes (from wholeFrames). */
export function framesOf(whole: Buffer): { stream: number; payload: Buffer }[] {
  const out: { stream: number; payload: Buffer }[] = [];
  for (let i = 0; i + 8 <= whole.length; i += 8 + whole.readUInt32BE(i + 4)) {
    out.push({ stream: whole[i]!, payload: whole.subarray(i + 8, i + 8 + whole.readUInt32BE(i + 4)) });
  }
  return out;
}

/** Calls back with each frame as the chunks of a stream complete it. */
export function frameReader(onFrame: (stream: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    const f = wholeFrames(pending.length ? Buffer.concat([pending, chunk]) : chunk);
    pending = f.rest;
    if (f.whole) for (const x of framesOf(f.whole)) onFrame(x.stream, x.payload);
  };
}

/** Text of stdout/stderr frames; bytes that are not frames (a tty's raw stream) as they are. */
export function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return i === 0 ? buf.toString('utf8') : out + buf.subarray(i).toString('utf8');
}
