// A small client for the Docker Engine API over its unix socket, covering exactly the calls
// berth makes. Why not dockerode: loading it (with docker-modem, ssh2, grpc and protobufjs,
// all required at start) costs about 20 MB of resident memory, a third of the daemon's
// 60 MB budget. Every call has a deadline; errors carry the engine's status and message.
// The API version is negotiated with the engine on first use (see negotiateVersion and
// docs/engine-api.md): the newest one both berth and the engine speak.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { socketRequest } from '../../lib/node-http.js';
import { BerthError } from '../../lib/errors.js';
import { ndjson } from '../../lib/ndjson.js';

/** The oldest Engine API berth speaks: Docker 20.10, Debian 12's docker.io. */
export const API_MIN = '1.41';
/** The newest Engine API whose request and response fields berth's calls were checked against
 *  (docs/engine-api.md): Docker 29.0's. A newer engine is spoken to in this version. */
export const API_MAX = '1.52';
const DEFAULT_TIMEOUT_MS = 30_000;
const VERSION_TIMEOUT_MS = 10_000;

export class EngineError extends BerthError {
  constructor(readonly statusCode: number, what: string, message: string) {
    super(statusCode === 404 ? 'not_found' : statusCode === 409 ? 'conflict' : 'unavailable', `docker: ${what}: ${message}`, undefined, { statusCode });
  }
}

export const isNotFound = (e: unknown) => (e as EngineError)?.statusCode === 404;
export const isNotModified = (e: unknown) => (e as EngineError)?.statusCode === 304;
/** A name already taken: 409 with "is already in use" (a 409 also means other conflicts). */
export const isNameTaken = (e: unknown) => (e as EngineError)?.statusCode === 409 && /already in use/i.test((e as Error).message);

type Query = Record<string, string | number | boolean | undefined>;
export interface CallOptions {
  query?: Query; body?: unknown; raw?: NodeJS.ReadableStream; headers?: Record<string, string>; timeoutMs?: number;
  /** Sent without a /vX.Y prefix, before any negotiation: for /_ping and /version, which every engine serves so. */
  unversioned?: boolean;
  /** Cancels the call (a pull, a wait): it then fails with code 'aborted'. */
  signal?: AbortSignal;
}

/** What GET /version answers (the fields berth reads). */
export interface VersionAnswer { Version?: string; ApiVersion?: string; MinAPIVersion?: string }
export interface Negotiated { version: string; engine: string; serverMax: string; serverMin: string | null }

function parseVersion(v: string, what: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(v.trim());
  if (!m) throw new BerthError('unavailable', `docker: ${what} ${JSON.stringify(v)} is not an API version (like 1.41)`);
  return [Number(m[1]), Number(m[2])];
}

/** Orders API versions numerically ("1.9" < "1.41"): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const [am, an] = parseVersion(a, 'version');
  const [bm, bn] = parseVersion(b, 'version');
  return am !== bm ? am - bm : an - bn;
}

export const versionAtLeast = (v: string, min: string) => compareVersions(v, min) >= 0;

/**
 * The API version to speak with an engine, from its GET /version answer: the newest both sides
 * support, min(clientMax, ApiVersion). Refuses (BerthError 'unavailable', with a hint) an engine
 * older than clientMin, or one whose MinAPIVersion is above clientMax.
 */
export function negotiateVersion(answer: VersionAnswer, clientMin = API_MIN, clientMax = API_MAX): Negotiated {
  const engine = answer.Version ? `Docker Engine ${answer.Version}` : 'Docker Engine';
  if (!answer.ApiVersion) throw new BerthError('unavailable', `docker: ${engine} did not tell its API version (GET /version has no ApiVersion)`);
  const serverMax = answer.ApiVersion;
  const serverMin = answer.MinAPIVersion || null; // engines before API 1.25 do not say
  if (compareVersions(serverMax, clientMin) < 0) {
    throw new BerthError('unavailable', `docker: ${engine} speaks Engine API ${serverMax} at most; berth needs ${clientMin} or newer`,
      'upgrade Docker Engine to 20.10 or newer (Debian 12: apt-get install docker.io)', { serverMax, serverMin, clientMin, clientMax });
  }
  if (serverMin && compareVersions(serverMin, clientMax) > 0) {
    throw new BerthError('unavailable', `docker: ${engine} accepts Engine API ${serverMin} and newer only; berth speaks ${clientMin} to ${clientMax}`,
      `upgrade berth, or let the engine accept older clients: start dockerd with DOCKER_MIN_API_VERSION=${clientMax} in its environment `
      + `(or "min-api-version": "${clientMax}" in /etc/docker/daemon.json)`, { serverMax, serverMin, clientMin, clientMax });
  }
  const version = compareVersions(serverMax, clientMax) < 0 ? serverMax : clientMax;
  return { version, engine: answer.Version ?? 'unknown', serverMax, serverMin };
}

/** GET /version's body; whatever is no JSON object fails clearly. */
export function parseVersionAnswer(text: string): VersionAnswer {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BerthError('unavailable', `docker: GET /version answered no JSON (${(e as Error).message}): ${text.slice(0, 200)}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BerthError('unavailable', `docker: GET /version answered ${text.slice(0, 200)}`);
  return v as VersionAnswer;
}

/** The engine refused the request's API version (it was not carried out): its version changed under us. */
export const isVersionRefused = (statusCode: number, message: string) =>
  statusCode === 400 && /client version \S+ is too (old|new)/i.test(message);

/** A line of a JSON progress stream (pull, build) worth showing, else null: progress-bar updates are left out.
 *  Docker 29 no longer sends the `progress` text, only `progressDetail` (which status lines carry empty). */
export function progressText(ev: Record<string, unknown>): string | null {
  if (typeof ev.status !== 'string' || !ev.status) return null;
  const detail = ev.progressDetail as { current?: unknown; total?: unknown } | undefined;
  if ((typeof ev.progress === 'string' && ev.progress) || typeof detail?.current === 'number' || typeof detail?.total === 'number') return null;
  return `${typeof ev.id === 'string' && ev.id ? `${ev.id}: ` : ''}${ev.status}`;
}

/** The failure a JSON progress line reports, if any: `errorDetail.message` (`error` is deprecated since API 1.48). */
export function progressError(ev: Record<string, unknown>): string | null {
  const detail = ev.errorDetail as { message?: unknown } | undefined;
  if (typeof detail?.message === 'string' && detail.message) return detail.message;
  if (ev.error) return String(ev.error);
  return null;
}

function qs(q: Query = {}): string {
  const entries = Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]);
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}

async function engineError(res: IncomingMessage, what: string): Promise<EngineError> {
  const text = (await readAll(res).catch(() => Buffer.alloc(0))).toString('utf8');
  let message = text.trim();
  try { message = JSON.parse(text).message ?? message; } catch { /* not JSON: keep the text */ }
  return new EngineError(res.statusCode ?? 500, what, message || `HTTP ${res.statusCode}`);
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export { demux, wholeFrames } from '../../lib/frames.js';

/** Nothing listens on the engine's socket (no such file, refused): the engine is not running. */
export const isUnreachable = (e: unknown) => e instanceof BerthError && e.details?.reason === 'unreachable';

export class EngineApi {
  private negotiation: Promise<Negotiated> | undefined;

  constructor(readonly socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock',
    readonly clientMin = API_MIN, readonly clientMax = API_MAX) {}

  /** The negotiated API version and engine, asked once (GET /version) and shared by concurrent first calls.
   *  A failure is not kept: the next call asks again (the engine may be starting). */
  negotiate(): Promise<Negotiated> {
    if (!this.negotiation) {
      const p = this.send('GET', '/version', 'version', { unversioned: true, timeoutMs: VERSION_TIMEOUT_MS })
        .then(async (res) => negotiateVersion(parseVersionAnswer((await readAll(res)).toString('utf8')), this.clientMin, this.clientMax));
      this.negotiation = p;
      p.catch(() => { if (this.negotiation === p) this.negotiation = undefined; });
    }
    return this.negotiation;
  }

  /** The negotiated API version, like "1.47". */
  async version(): Promise<string> {
    return (await this.negotiate()).version;
  }

  /** Opens a request and resolves with the response once its headers arrive. */
  async open(method: string, path: string, what: string, o: CallOptions = {}): Promise<IncomingMessage> {
    if (o.unversioned) return this.send(method, path, what, o);
    const negotiation = this.negotiate();
    const { version } = await negotiation;
    try {
      return await this.send(method, path, what, o, version);
    } catch (e) {
      if (!(e instanceof EngineError && isVersionRefused(e.statusCode, e.message))) throw e;
      // The engine was replaced (upgraded, downgraded) by one that refuses this version; the
      // request was refused before being carried out, so it is sent again in a new version.
      if (this.negotiation === negotiation) this.negotiation = undefined;
      if (o.raw) throw e; // a streamed body cannot be sent twice
      return this.send(method, path, what, o, await this.version());
    }
  }

  private send(method: string, path: string, what: string, o: CallOptions, version?: string): Promise<IncomingMessage> {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      // once the answer streams in, it is the response that must fail with the reason
      const fail = (e: BerthError) => (response ? response.destroy(e) : req.destroy(e));
      const req = socketRequest({
        socketPath: this.socketPath, method, path: `${version ? `/v${version}` : ''}${path}${qs(o.query)}`, timeout: timeoutMs,
        headers: {
          host: 'docker', ...o.headers,
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      }, async (res) => {
        response = res;
        if ((res.statusCode ?? 500) < 300) return resolve(res);
        reject(await engineError(res, what));
      });
      req.on('timeout', () => fail(new BerthError('timeout', `docker: ${what} did not answer within ${timeoutMs / 1000}s`)));
      if (o.signal) {
        const abort = () => fail(new BerthError('aborted', `docker: ${what} was cancelled`));
        if (o.signal.aborted) abort();
        o.signal.addEventListener('abort', abort, { once: true });
        req.on('close', () => o.signal!.removeEventListener('abort', abort));
      }
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof BerthError ? e : this.unreachable(what, e)));
      if (o.raw) o.raw.pipe(req);
      else req.end(payload);
    });
  }

  /** A hijacked connection (attach): the engine answers 101 and the socket carries the stream
   *  both ways, with no timeout (it lasts as long as the container's stdio). */
  async upgrade(path: string, what: string, query?: CallOptions['query']): Promise<Duplex> {
    const version = await this.version();
    return new Promise((resolve, reject) => {
      const req = socketRequest({
        socketPath: this.socketPath, method: 'POST', path: `/v${version}${path}${qs(query)}`,
        headers: { host: 'docker', connection: 'Upgrade', upgrade: 'tcp' },
      });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => void engineError(res, what).then(reject));
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.unreachable(what, e)));
      req.end();
    });
  }

  private unreachable(what: string, e: NodeJS.ErrnoException): BerthError {
    return new BerthError('unavailable', `docker: ${what}: cannot reach Docker Engine at ${this.socketPath} (${e.code ?? e.message})`,
      'start it with: berth up', { reason: 'unreachable' });
  }

  async json<T>(method: string, path: string, what: string, o: CallOptions = {}): Promise<T> {
    const body = await this.buffer(method, path, what, o);
    return (body.length ? JSON.parse(body.toString('utf8')) : null) as T;
  }

  async buffer(method: string, path: string, what: string, o: CallOptions = {}): Promise<Buffer> {
    return readAll(await this.open(method, path, what, o));
  }

  /** Reads a JSON-lines progress stream (pull, build); an {error} line fails the call. */
  async progress(method: string, path: string, what: string, o: CallOptions, onEvent: (e: Record<string, unknown>) => void): Promise<void> {
    const res = await this.open(method, path, what, o);
    let failure: string | undefined;
    try {
      for await (const ev of ndjson(res)) {
        const error = progressError(ev);
        if (error) failure = error;
        else onEvent(ev);
      }
    } catch (e) {
      throw e instanceof BerthError ? e : new BerthError('unavailable', `docker: ${what}: the engine's answer broke off: ${(e as Error).message}`);
    }
    if (failure) throw new BerthError('command_failed', `docker: ${what}: ${failure}`);
  }
}
