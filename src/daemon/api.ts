// The daemon's HTTP API (served on a root-only unix socket). Handlers are thin: parse the
// request, call the core, map errors to statuses. Long operations stream NDJSON events.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { BerthError, asBerthError, ValidationError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import { createApp, deleteApp, listApps, showApp } from '../core/apps/apps.js';
import { changeConfig, listConfig } from '../core/config/config.js';
import type { Ctx } from '../core/context.js';
import { abort, deploy, type DeployEvent, relName, rollback } from '../core/deploy/engine.js';
import { reconcile } from '../core/deploy/recover.js';
import { platformStatus } from '../core/status.js';
import { registryLogin } from '../core/registry.js';

export { API_VERSION } from './api-version.js';
import { API_VERSION } from './api-version.js';

function parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ValidationError(i.path.join('.') || 'body', i.message);
  }
  return r.data;
}

async function json(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text) return {};
  try { return JSON.parse(text); } catch { throw new ValidationError('body', 'is not valid JSON'); }
}

const actorOf = (c: Context) => (c.req.header('x-berth-actor') ?? 'unknown').slice(0, 100);
const dur = (path: string) => z.union([z.string(), z.number()]).optional().transform((x) => (x === undefined ? undefined : v.duration(x, path)));

const DeployBody = z.object({
  image: z.string().optional(),
  port: z.union([z.number(), z.string()]).optional(),
  health_path: z.string().optional(),
  release_command: z.array(z.string()).optional(),
  timeout: dur('timeout'),
  lock_timeout: dur('lock_timeout'),
  dry_run: z.boolean().optional(),
}).strict();

/** Runs a long operation and streams its events; the operation goes on if the client leaves. */
function streamed(c: Context, run: (emit: (e: DeployEvent) => void) => Promise<unknown>): Response {
  const enc = new TextEncoder();
  let ctrl: ReadableStreamDefaultController<Uint8Array> | null = null;
  const write = (obj: unknown) => {
    try { ctrl?.enqueue(enc.encode(JSON.stringify(obj) + '\n')); } catch { ctrl = null; /* the client left; keep going */ }
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
      run(write)
        .then((result) => write({ type: 'result', result }))
        .catch((e) => write({ type: 'error', error: asBerthError(e).toJSON() }))
        .finally(() => { try { ctrl?.close(); } catch { ctrl = null; } });
    },
    cancel() { ctrl = null; },
  });
  return c.body(body, 200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
}

export function buildApi(ctx: Ctx): Hono {
  const api = new Hono().basePath(`/${API_VERSION}`);

  api.onError((err, c) => {
    const e = asBerthError(err);
    if (e.code === 'internal') ctx.log.error({ err: err.message, stack: err.stack }, 'request failed');
    return c.json({ error: e.toJSON() }, e.status as 400);
  });
  api.notFound((c) => c.json({ error: new BerthError('not_found', `no such endpoint: ${c.req.method} ${c.req.path}`).toJSON() }, 404));

  api.get('/health', (c) => c.json({ ok: true, boot: ctx.boot, pid: process.pid }));
  api.get('/status', async (c) => c.json(await platformStatus(ctx)));

  api.get('/apps', async (c) => c.json(await listApps(ctx)));
  api.post('/apps', async (c) => {
    const b = parse(z.object({ name: z.unknown(), domains: z.array(z.unknown()), port: z.unknown().optional(), health_path: z.unknown().optional() }).strict(), await json(c));
    const r = await createApp(ctx, { name: b.name as string, domains: b.domains as string[], port: b.port as number | undefined, healthPath: b.health_path as string | undefined }, actorOf(c));
    return c.json(r, r.created ? 201 : 200);
  });
  api.get('/apps/:name', async (c) => c.json(await showApp(ctx, c.req.param('name'))));
  api.delete('/apps/:name', async (c) => c.json(await deleteApp(ctx, c.req.param('name'), actorOf(c))));

  api.get('/apps/:name/config', (c) => c.json(listConfig(ctx, c.req.param('name'), c.req.query('reveal') === '1')));
  api.patch('/apps/:name/config', async (c) => {
    const b = parse(z.object({ set: z.record(z.string()).optional(), unset: z.array(z.string()).optional(), deploy: z.boolean().optional(), lock_timeout: dur('lock_timeout') }).strict(), await json(c));
    const name = v.appName(c.req.param('name'));
    listConfig(ctx, name, false); // 404 and 400 before the stream starts
    Object.entries(b.set ?? {}).forEach(([k, val]) => { v.envKey(k, `set.${k}`); v.envValue(val, `set.${k}`); });
    (b.unset ?? []).forEach((k, i) => v.envKey(k, `unset[${i}]`));
    return streamed(c, (emit) => changeConfig(ctx, name, { set: b.set, unset: b.unset, deploy: b.deploy, lockTimeoutMs: b.lock_timeout, actor: actorOf(c) }, emit));
  });

  api.post('/apps/:name/deploys', async (c) => {
    const b = parse(DeployBody, await json(c));
    const name = v.appName(c.req.param('name'));
    if (b.image !== undefined) v.imageRef(b.image);
    if (b.port !== undefined) v.port(b.port);
    if (b.health_path !== undefined) v.healthPath(b.health_path);
    if (!ctx.store.getApp(name)) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
    return streamed(c, (emit) => deploy(ctx, {
      app: name, kind: 'deploy', image: b.image, port: b.port === undefined ? undefined : v.port(b.port), healthPath: b.health_path,
      releaseCommand: b.release_command, timeoutMs: b.timeout, lockTimeoutMs: b.lock_timeout, dryRun: b.dry_run, actor: actorOf(c),
    }, emit));
  });
  api.delete('/apps/:name/deploys/current', (c) => c.json(abort(ctx, c.req.param('name'), actorOf(c))));
  api.post('/apps/:name/rollback', async (c) => {
    const b = parse(z.object({ to: z.string().optional(), lock_timeout: dur('lock_timeout'), timeout: dur('timeout') }).strict(), await json(c));
    const name = v.appName(c.req.param('name'));
    if (b.to !== undefined) v.releaseId(b.to, 'to');
    if (!ctx.store.getApp(name)) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
    return streamed(c, (emit) => rollback(ctx, { app: name, to: b.to, actor: actorOf(c), lockTimeoutMs: b.lock_timeout, timeoutMs: b.timeout }, emit));
  });

  api.get('/apps/:name/releases', (c) => {
    const name = v.appName(c.req.param('name'));
    const app = ctx.store.getApp(name);
    if (!app) throw new BerthError('not_found', `app ${name} not found`);
    return c.json(ctx.store.releasesOf(name).map((r) => ({
      release: relName(r), image: r.image, image_id: r.image_id, digest: r.digest, port: r.port, state: r.state,
      created_at: r.created_at, actor: r.actor, note: r.note, warm_until: r.warm_until,
    })));
  });
  api.get('/apps/:name/deploys', (c) => {
    const name = v.appName(c.req.param('name'));
    return c.json(ctx.store.deploysOf(name).map((d) => ({ ...d, steps: ctx.store.stepsOf(d.id) })));
  });

  api.get('/apps/:name/logs', async (c) => {
    const name = v.appName(c.req.param('name'));
    if (!ctx.store.getApp(name)) throw new BerthError('not_found', `app ${name} not found`);
    const tail = Math.min(Number(c.req.query('tail') ?? 100) || 100, 10_000);
    const units = await ctx.runtime.list(name);
    const unit = units.find((u) => u.serving) ?? units[0];
    if (!unit) throw new BerthError('not_found', `${name} has no running release`, `deploy it with: berth deploy ${name} --image REF`);
    if (c.req.query('follow') !== '1') return c.text(await ctx.runtime.logs(unit, tail));
    const abortCtl = new AbortController();
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        ctx.runtime.followLogs(unit, tail, (chunk) => {
          try { controller.enqueue(enc.encode(chunk)); } catch { abortCtl.abort(); }
        }, abortCtl.signal).finally(() => { try { controller.close(); } catch { abortCtl.abort(); } });
      },
      cancel() { abortCtl.abort(); },
    });
    return c.body(body, 200, { 'content-type': 'text/plain; charset=utf-8' });
  });

  api.get('/audit', (c) => {
    const app = c.req.query('app');
    return c.json(ctx.store.auditLog(app ? v.appName(app, 'app') : undefined, Math.min(Number(c.req.query('limit') ?? 100) || 100, 1000)));
  });

  api.post('/registries', async (c) => {
    const b = parse(z.object({ registry: z.string().min(1).max(255), username: z.string().min(1).max(255), password: z.string().min(1).max(4096) }).strict(), await json(c));
    return c.json(await registryLogin(ctx, b, actorOf(c)));
  });

  api.post('/reconcile', async (c) => c.json(await reconcile(ctx)));
  return api;
}
