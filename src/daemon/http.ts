// A minimal router on node:http for the daemon's API. Why not hono/fastify: the web-standard
// Request/Response layer alone adds ~6 MB of resident memory, and the daemon must stay under
// 60 MB at rest. Handlers return a value (sent as JSON) or a Reply for streams.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { asBerthError, BerthError, ValidationError } from '../lib/errors.js';
import { CONTROL, frame } from '../lib/frames.js';
import { STATUS_CODES } from '../lib/node-http.js';

export interface Req {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  header(name: string): string | undefined;
  json(): Promise<unknown>;
}

export type Reply =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'text'; body: string }
  /** The signal aborts when the client leaves; most operations go on regardless (a deploy). */
  | { kind: 'ndjson'; run: (emit: (e: unknown) => void, signal: AbortSignal) => Promise<unknown> }
  | { kind: 'stream'; run: (write: (s: string) => void, signal: AbortSignal) => Promise<void> }
  /** An upgraded connection (`berth run -it`) in berth's frames (lib/frames.ts): `run` talks on
   *  it, then its result or error goes as the last CONTROL frame. The signal: the client left. */
  | { kind: 'upgrade'; run: (peer: Duplex, signal: AbortSignal) => Promise<unknown> };

export const json = (status: number, body: unknown): Reply => ({ kind: 'json', status, body });
type Handler = (r: Req) => unknown | Promise<unknown>;

const MAX_BODY = 1 << 20;

function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && 'kind' in v && ['json', 'text', 'ndjson', 'stream', 'upgrade'].includes((v as Reply).kind);
}

export class Router {
  private routes: { method: string; re: RegExp; keys: string[]; handler: Handler }[] = [];

  constructor(private readonly onError: (e: BerthError, raw: unknown) => void = () => undefined) {}

  on(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const re = new RegExp('^' + pattern.replace(/:([a-z_]+)/g, (_, k: string) => { keys.push(k); return '([^/]+)'; }) + '$');
    this.routes.push({ method, re, keys, handler });
    return this;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.dispatch(req, res).catch((e) => this.send(res, this.errorReply(e)));
  };

  private errorReply(err: unknown): Reply {
    const e = asBerthError(err);
    if (e.code === 'internal') this.onError(e, err);
    return json(e.status, { error: e.toJSON() });
  }

  /** An upgrade request (the server's 'upgrade' event): its body is the JSON in `?body=`, as the
   *  connection carries frames once upgraded. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (head.length) socket.unshift(head);
    const refuse = (r: Reply) => {
      const { status, body } = r as { status: number; body: unknown };
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n`
        + `connection: close\r\n\r\n${text}`);
    };
    void this.route(req, async () => parseJson(new URL(req.url ?? '/', 'http://berth').searchParams.get('body') ?? '')).then((r) => {
      if (r.kind !== 'upgrade') return refuse(json(400, { error: new BerthError('invalid', 'this endpoint does not upgrade').toJSON() }));
      socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: berth-frames\r\n\r\n');
      const left = new AbortController();
      // the server keeps sockets half-open: a client that leaves shows as the end of its side
      for (const ev of ['end', 'close', 'error']) socket.on(ev, () => left.abort());
      const last = (m: object) => { if (!socket.destroyed) socket.end(frame(CONTROL, JSON.stringify(m))); };
      Promise.resolve().then(() => r.run(socket, left.signal)).then((result) => last({ type: 'result', result }),
        (e) => last({ type: 'error', error: (this.errorReply(e) as { body: { error: unknown } }).body.error }));
    }, (e) => refuse(this.errorReply(e)));
  };

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.send(res, await this.route(req, () => readJson(req)));
  }

  private async route(req: IncomingMessage, body: () => Promise<unknown>): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://berth');
    let methodMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(url.pathname);
      if (!m) continue;
      if (r.method !== req.method) { methodMatched = true; continue; }
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      const out = await r.handler({
        method: req.method, params, query: url.searchParams,
        header: (n) => { const v = req.headers[n.toLowerCase()]; return Array.isArray(v) ? v[0] : v; },
        json: body,
      });
      return isReply(out) ? out : json(200, out);
    }
    throw new BerthError('not_found', methodMatched ? `${req.method} is not allowed on ${url.pathname}` : `no such endpoint: ${req.method} ${url.pathname}`);
  }

  private send(res: ServerResponse, r: Reply): void {
    if (r.kind === 'json') {
      const body = JSON.stringify(r.body);
      res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    } else if (r.kind === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(r.body);
    } else if (r.kind === 'ndjson') {
      // The operation goes on if the client leaves; its events are then dropped.
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
      const emit = (e: unknown) => { if (!res.destroyed) res.write(JSON.stringify(e) + '\n'); };
      const left = new AbortController();
      res.on('close', () => left.abort());
      // a run that throws at once (not async) fails like one that rejects, after the headers went
      Promise.resolve().then(() => r.run(emit, left.signal))
        .then((result) => emit({ type: 'result', result }))
        .catch((e) => emit({ type: 'error', error: (this.errorReply(e) as { body: { error: unknown } }).body.error }))
        .finally(() => res.end());
    } else if (r.kind === 'upgrade') {
      this.send(res, json(426, { error: new BerthError('invalid', 'this endpoint needs an upgraded connection (Connection: Upgrade)').toJSON() }));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      Promise.resolve().then(() => r.run((s) => { if (!res.destroyed) res.write(s); }, ac.signal))
        .catch((e) => { if (!res.destroyed) res.write(`\nerror: ${asBerthError(e).message}\n`); })
        .finally(() => res.end());
    }
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ValidationError('body', 'is larger than 1 MiB');
    chunks.push(c as Buffer);
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'));
}

function parseJson(text: string): unknown {
  if (!text) return {};
  try { return JSON.parse(text); } catch { throw new ValidationError('body', 'is not valid JSON'); }
}
