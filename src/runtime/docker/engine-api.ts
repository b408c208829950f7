// A small client for the Docker Engine API over its unix socket, covering exactly the calls
// berth makes. Why not dockerode: loading it (with docker-modem, ssh2, grpc and protobufjs,
// all required at start) costs about 20 MB of resident memory, a third of the daemon's
// 60 MB budget. Every call has a deadline; errors carry the engine's status and message.
import { request, type IncomingMessage } from 'node:http';
import { BerthError } from '../../lib/errors.js';

export const ENGINE_API = 'v1.41'; // Docker 20.10, Debian 12's docker.io
const DEFAULT_TIMEOUT_MS = 30_000;

export class EngineError extends BerthError {
  constructor(readonly statusCode: number, what: string, message: string) {
    super(statusCode === 404 ? 'not_found' : statusCode === 409 ? 'conflict' : 'unavailable', `docker: ${what}: ${message}`, undefined, { statusCode });
  }
}

export const isNotFound = (e: unknown) => (e as EngineError)?.statusCode === 404;
export const isNotModified = (e: unknown) => (e as EngineError)?.statusCode === 304;

type Query = Record<string, string | number | boolean | undefined>;
export interface CallOptions { query?: Query; body?: unknown; raw?: NodeJS.ReadableStream; headers?: Record<string, string>; timeoutMs?: number }

function qs(q: Query = {}): string {
  const entries = Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]);
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Splits Docker's multiplexed stdout/stderr frames (8-byte headers) into text. */
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

export class EngineApi {
  constructor(readonly socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock') {}

  /** Opens a request and resolves with the response once its headers arrive. */
  open(method: string, path: string, what: string, o: CallOptions = {}): Promise<IncomingMessage> {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath, method, path: `/${ENGINE_API}${path}${qs(o.query)}`, timeout: timeoutMs,
        headers: {
          host: 'docker', ...o.headers,
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      }, async (res) => {
        if ((res.statusCode ?? 500) < 300) return resolve(res);
        const text = (await readAll(res).catch(() => Buffer.alloc(0))).toString('utf8');
        let message = text.trim();
        try { message = JSON.parse(text).message ?? message; } catch { /* not JSON: keep the text */ }
        reject(new EngineError(res.statusCode ?? 500, what, message || `HTTP ${res.statusCode}`));
      });
      req.on('timeout', () => req.destroy(new BerthError('timeout', `docker: ${what} did not answer within ${timeoutMs / 1000}s`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof BerthError ? e
        : new BerthError('unavailable', `docker: ${what}: cannot reach Docker Engine at ${this.socketPath} (${e.code ?? e.message})`, 'start it with: berth up')));
      if (o.raw) o.raw.pipe(req);
      else req.end(payload);
    });
  }

  async json<T>(method: string, path: string, what: string, o: CallOptions = {}): Promise<T> {
    const body = await readAll(await this.open(method, path, what, o));
    return (body.length ? JSON.parse(body.toString('utf8')) : null) as T;
  }

  async buffer(method: string, path: string, what: string, o: CallOptions = {}): Promise<Buffer> {
    return readAll(await this.open(method, path, what, o));
  }

  /** Reads a JSON-lines progress stream (pull, build); an {error} line fails the call. */
  async progress(method: string, path: string, what: string, o: CallOptions, onEvent: (e: Record<string, unknown>) => void): Promise<void> {
    const res = await this.open(method, path, what, o);
    let buf = '';
    let failure: string | undefined;
    res.setEncoding('utf8');
    for await (const chunk of res) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = JSON.parse(line) as Record<string, unknown>;
        if (ev.error) failure = String(ev.error);
        else onEvent(ev);
      }
    }
    if (failure) throw new BerthError('command_failed', `docker: ${what}: ${failure}`);
  }
}
