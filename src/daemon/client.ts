// Client of the daemon's API over its unix socket, used by the CLI (and by `berth up` to
// see whether the daemon answers).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { socketRequest } from '../lib/node-http.js';
import { userInfo, hostname } from 'node:os';
import { BerthError } from '../lib/errors.js';
import { ndjson } from '../lib/ndjson.js';
import { API_VERSION } from './api-version.js';

/** What a CLI says when the daemon goes away during an operation that deploys: its supervisor
 *  starts it again, and its start finishes or rolls back what it was doing. */
export const LOST_DAEMON_DEPLOY = 'lost the daemon; it restarts by itself; the deploy is rolled back or finished: see berth status';

/** The connection to the daemon broke mid-response (its process died): Node reports 'aborted'
 *  (ECONNRESET), and a last event cut in half does not parse. */
function droppedConnection(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || (e as Error).message === 'aborted' || e instanceof SyntaxError;
}

/** The error a refusal of the daemon carries. */
async function errorOf(res: IncomingMessage): Promise<BerthError> {
  let text = '';
  for await (const chunk of res) text += chunk;
  try {
    return BerthError.fromJSON(JSON.parse(text || '{}').error ?? { message: text });
  } catch {
    return new BerthError('internal', `the berth daemon answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }
}

export function actor(): string {
  const user = process.env.SUDO_USER || process.env.BERTH_ACTOR || userInfo().username;
  return `${user}@${hostname()}`;
}

export class DaemonClient {
  constructor(readonly socketPath: string, readonly timeoutMs = 30_000) {}

  private open(method: string, path: string, body: unknown, timeoutMs: number) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = socketRequest({
        socketPath: this.socketPath, method, path: `/${API_VERSION}${path}`, timeout: timeoutMs,
        headers: { host: 'berth', 'x-berth-actor': actor(), ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      }, resolve);
      req.on('timeout', () => req.destroy(new BerthError('timeout', `the berth daemon did not answer ${method} ${path} within ${timeoutMs / 1000}s`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof BerthError ? e : this.unreachable(e)));
      req.end(payload);
    });
  }

  private unreachable(e: NodeJS.ErrnoException): BerthError {
    return new BerthError('unavailable', `cannot reach the berth daemon at ${this.socketPath} (${e.code ?? e.message})`,
      'start the platform with: berth up (as root)');
  }

  /** Opens an upgraded connection (`berth run -it`): the body goes in `?body=`, and the socket
   *  then carries berth's frames both ways (lib/frames.ts). A refusal rejects with its error. */
  upgrade(path: string, body: unknown): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const req = socketRequest({
        socketPath: this.socketPath, method: 'POST', path: `/${API_VERSION}${path}?body=${encodeURIComponent(JSON.stringify(body))}`,
        headers: { host: 'berth', 'x-berth-actor': actor(), connection: 'Upgrade', upgrade: 'berth-frames' },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => void errorOf(res).then(reject, reject));
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.unreachable(e)));
      req.end();
    });
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.open(method, path, body, this.timeoutMs);
    let text = '';
    for await (const chunk of res) text += chunk;
    const parsed = res.headers['content-type']?.includes('json') ? JSON.parse(text || 'null') : text;
    if ((res.statusCode ?? 500) >= 400) throw BerthError.fromJSON((parsed as { error?: object })?.error ?? { message: String(text) });
    return parsed as T;
  }

  /** Calls an endpoint that streams NDJSON events; resolves with the final result. When the
   *  daemon goes away before the result (killed, restarted), it rejects with `lost`: exit 10. */
  async stream<T>(method: string, path: string, body: unknown, onEvent: (e: { type: string; [k: string]: unknown }) => void,
    lost: string = LOST_DAEMON_DEPLOY): Promise<T> {
    const res = await this.open(method, path, body, 0);
    if ((res.statusCode ?? 500) >= 400) throw await errorOf(res);
    let result: { type: string; result?: T; error?: object } | undefined;
    try {
      for await (const ev of ndjson<{ type: string; result?: T; error?: object; [k: string]: unknown }>(res)) {
        if (ev.type === 'result' || ev.type === 'error') result = ev;
        else onEvent(ev);
      }
    } catch (e) {
      if (!droppedConnection(e)) throw e;
      throw new BerthError('unavailable', lost, undefined, { cause: (e as Error).message });
    }
    if (!result) throw new BerthError('unavailable', lost);
    if (result.type === 'error') throw BerthError.fromJSON(result.error as object);
    return result.result as T;
  }

  /** Streams raw text (logs) to a callback until the server ends it. */
  async text(path: string, onChunk: (s: string) => void): Promise<void> {
    const res = await this.open('GET', path, undefined, 0);
    if ((res.statusCode ?? 500) >= 400) throw await errorOf(res);
    res.setEncoding('utf8');
    for await (const chunk of res) onChunk(chunk as string);
  }

  async alive(): Promise<boolean> {
    return this.call('GET', '/health').then(() => true, () => false);
  }
}
