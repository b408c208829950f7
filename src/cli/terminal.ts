// The client side of `berth run -i/-t`: one upgraded connection to the daemon carries this
// terminal's keys (raw mode: Ctrl-C and Ctrl-D go to the command, as with `docker run -it`) and
// size, and brings back the command's output and, last, its outcome (daemon/terminal.ts).
import type { Duplex } from 'node:stream';
import { BerthError } from '../lib/errors.js';
import { CONTROL, frame, frameReader, STDERR, STDIN, STDOUT } from '../lib/frames.js';

export interface TerminalIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  /** Where the command's stdout goes (stderr with --json). */
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** Talks on `peer` until the daemon sends the outcome; the terminal is restored however it ends. */
export function talk<T>(peer: Duplex, o: { tty: boolean; stdin: boolean }, io: TerminalIo, lost: string): Promise<T> {
  const control = (m: object) => { if (!peer.destroyed) peer.write(frame(CONTROL, JSON.stringify(m))); };
  const raw = o.tty && o.stdin && io.stdin.isTTY;
  if (raw) io.stdin.setRawMode(true);
  const onInput = (d: Buffer) => { if (!peer.destroyed) peer.write(frame(STDIN, d)); };
  const onEnd = () => control({ type: 'eof' });
  const onResize = () => control({ type: 'resize', rows: io.stdout.rows, cols: io.stdout.columns });
  if (o.stdin) io.stdin.on('data', onInput).once('end', onEnd);
  if (o.tty) io.stdout.on('resize', onResize);
  const restore = () => {
    if (raw) io.stdin.setRawMode(false);
    io.stdin.off('data', onInput).off('end', onEnd).pause();
    io.stdout.off('resize', onResize);
  };
  return new Promise<T>((resolve, reject) => {
    let outcome: { type: string; result?: T; error?: object } | undefined;
    peer.on('data', frameReader((stream, payload) => {
      if (stream === STDOUT) io.out.write(payload);
      else if (stream === STDERR) io.err.write(payload);
      else if (stream === CONTROL) {
        const m = JSON.parse(payload.toString('utf8')) as { type: string; result?: T; error?: object };
        if (m.type === 'result' || m.type === 'error') outcome = m;
      }
    }));
    peer.on('error', () => undefined); // the close below says what it means
    peer.once('close', () => {
      restore();
      if (!outcome) reject(new BerthError('unavailable', lost));
      else if (outcome.type === 'error') reject(BerthError.fromJSON(outcome.error ?? {}));
      else resolve(outcome.result as T);
    });
  });
}
