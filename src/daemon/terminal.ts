// The daemon's side of `berth run -i/-t`, on the connection the client upgraded: frames from the
// client carry its stdin (STDIN) and, as CONTROL JSON, a new terminal size or the end of its
// input; frames to it carry the one-off's output (STDOUT, STDERR). The router sends the outcome.
import type { Duplex } from 'node:stream';
import { CONTROL, frame, frameReader, STDIN, STDOUT } from '../lib/frames.js';
import type { Logger } from '../lib/log.js';
import type { Attached } from '../runtime/types.js';

/** How long output may trail the one-off's exit before the result goes (its stream closes by itself). */
const OUTPUT_DRAIN_MS = 2000;

export type ClientControl = { type: 'resize'; rows: number; cols: number } | { type: 'eof' };

export function terminalBridge(peer: Duplex, tty: boolean, log: Logger) {
  let ended: Promise<unknown> = Promise.resolve();
  const send = (stream: number, payload: Buffer | string) => { if (!peer.destroyed) peer.write(frame(stream, payload)); };
  return {
    /** Called once the one-off is attached: what came from the client before waited in the socket. */
    attached(a: Attached, started: object): void {
      send(CONTROL, JSON.stringify(started));
      // a terminal's output is raw bytes; without one, Docker's frames are passed on as they are
      a.io.on('data', tty ? (d: Buffer) => send(STDOUT, d) : frameReader((stream, payload) => send(stream, payload)));
      ended = new Promise((r) => { a.io.once('end', r); a.io.once('close', r); });
      a.io.on('error', (e) => log.warn({ container: a.ref.name, err: e.message }, 'the one-off\'s attached stream broke'));
      peer.on('data', frameReader((stream, payload) => {
        if (stream === STDIN) { if (!a.io.writableEnded) a.io.write(payload); return; }
        if (stream !== CONTROL) return;
        const m = parseControl(payload);
        if (m?.type === 'eof') a.io.end();
        else if (m?.type === 'resize') a.resize(m.rows, m.cols).catch((e: Error) => log.warn({ container: a.ref.name, err: e.message }, 'resize failed'));
      }));
    },
    /** Resolves once the one-off's output is all passed on, or after OUTPUT_DRAIN_MS. */
    drained: () => Promise.race([ended, new Promise((r) => setTimeout(r, OUTPUT_DRAIN_MS).unref())]),
  };
}

/** A control message from the client, or undefined when it is not one berth knows. */
export function parseControl(payload: Buffer): ClientControl | undefined {
  try {
    const m = JSON.parse(payload.toString('utf8')) as ClientControl;
    if (m.type === 'eof') return m;
    if (m.type === 'resize' && [m.rows, m.cols].every((n) => Number.isInteger(n) && n > 0 && n <= 1000)) return m;
  } catch { /* not JSON: ignored like an unknown message */ }
  return undefined;
}
