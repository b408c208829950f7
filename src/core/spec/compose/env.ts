// A service's environment: env_file: first, then environment: over it (compose's order). Keys
// berth sets itself are left out with what sets them; a bare KEY takes the deploying user's value.
import { posix } from 'node:path';
import { RESERVED_ENV_KEYS } from '../../../lib/validate.js';
import { parseDotenv } from '../dotenv.js';
import type { Path } from '../issues.js';
import type { ComposeCtx } from './context.js';
import { isMap, pairs } from './values.js';

const SET_BY: Record<string, string> = {
  DATABASE_URL: "the app's own PostgreSQL database", REDIS_URL: "the app's Redis user", REDIS_KEY_PREFIX: "the app's Redis user",
  PORT: "the process's port", APP_NAME: 'the app', APP_DOMAIN: "the app's first domain", BERTH_RELEASE: 'the release',
};
const setBy = (k: string) => SET_BY[k] ?? (k.startsWith('S3_') ? "the app's bucket" : 'berth');

function envFiles(raw: unknown, at: Path, ctx: ComposeCtx, into: Record<string, string>): void {
  const list = Array.isArray(raw) ? raw : [raw];
  list.forEach((entry, i) => {
    const here = Array.isArray(raw) ? [...at, i] : at;
    const path = typeof entry === 'string' ? entry : isMap(entry) && typeof entry.path === 'string' ? entry.path : null;
    if (path === null) return ctx.findings.error(here, 'expected a file path, or {path, required}');
    const required = !(isMap(entry) && entry.required === false);
    const text = ctx.readText(path);
    if (text === null) {
      if (required) ctx.findings.error(here, `${path} does not exist`, 'create it, or mark it optional: env_file: [{path: ..., required: false}]');
      return undefined;
    }
    const r = parseDotenv(text, ctx.env);
    r.errors.forEach((e) => ctx.findings.error(here, `${posix.join(ctx.dir, path)} line ${e.line}: ${e.message}`));
    Object.assign(into, r.values);
    const n = Object.keys(r.values).length;
    if (n) ctx.findings.warn(here, `${n} value${n === 1 ? '' : 's'} read from ${path} into the app's description: keep secrets in berth config set instead`);
    return undefined;
  });
}

/** The service's env as berth's: strings, berth's own keys left out. */
export function serviceEnv(svc: Record<string, unknown>, at: Path, ctx: ComposeCtx): Record<string, string> {
  const env: Record<string, string> = {};
  if (svc.env_file !== undefined) envFiles(svc.env_file, [...at, 'env_file'], ctx, env);
  if (svc.environment !== undefined) {
    const list = pairs(svc.environment);
    if (!list) ctx.findings.error([...at, 'environment'], 'expected a mapping or a list of KEY=VALUE');
    for (const [k, v] of list ?? []) {
      if (v === null || v === undefined) {
        // KEY alone: compose passes the deploying user's value, or nothing
        const mine = ctx.env[k];
        if (mine !== undefined) env[k] = mine;
        else ctx.findings.warn([...at, 'environment', k], 'has no value here and is not set in your environment: left out');
      } else {
        env[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
      }
    }
  }
  for (const k of Object.keys(env).filter((k) => RESERVED_ENV_KEYS.has(k))) {
    ctx.findings.warn([...at, 'environment', k], `set by berth (${setBy(k)}), left out`);
    delete env[k];
  }
  return env;
}
