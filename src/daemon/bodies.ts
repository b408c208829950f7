// The daemon API's request bodies: one zod schema per body, used by the daemon to parse every
// request and by the CLI to check what it sends before it leaves the machine, so both say the
// same thing. Every problem is reported, each with its path (not only the first).
import { z } from 'zod';
import { BerthError, ValidationError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import { SERVICES } from '../state/service-names.js';

/** A field checked by one of berth's validators (lib/validate), its message kept. */
const via = <T>(check: (raw: unknown, path: string) => T) => z.unknown().transform((raw, c): T => {
  try {
    return check(raw, c.path.join('.'));
  } catch (e) {
    c.addIssue({
      code: z.ZodIssueCode.custom, message: e instanceof ValidationError ? e.message.slice(e.path.length + 2) : String(e),
      params: { hint: (e as BerthError).hint },
    });
    return z.NEVER;
  }
});
const duration = via((raw, path) => v.duration(raw as string | number, path)).optional();

export const AppCreateBody = z.object({
  name: via(v.appName), domains: z.array(via(v.domain)).min(1, 'at least one domain is required').max(50),
  port: via(v.port).optional(), health_path: via(v.healthPath).optional(), services: z.array(z.enum(SERVICES)).optional(),
  /** the shared Redis (default), or a Redis of the app's own with its own memory limit */
  redis: z.enum(['shared', 'dedicated']).optional(),
}).strict();

export const DomainsBody = z.object({ add: z.array(via(v.domain)).max(50).optional(), remove: z.array(via(v.domain)).max(50).optional() }).strict();

export const ConfigBody = z.object({
  set: z.record(via(v.envValue)).optional()
    .superRefine((set, c) => Object.keys(set ?? {}).forEach((k) => {
      try { v.envKey(k); } catch (e) {
        c.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: (e as ValidationError).message.slice((e as ValidationError).path.length + 2) });
      }
    })),
  unset: z.array(via(v.envKey)).optional(), deploy: z.boolean().optional(), lock_timeout: duration,
}).strict();

export const DeployBody = z.object({
  image: via(v.imageRef).optional(), port: via(v.port).optional(), health_path: via(v.healthPath).optional(),
  release_command: z.array(z.string().min(1).max(4096)).min(1).max(64).optional(),
  timeout: duration, release_timeout: duration, lock_timeout: duration, dry_run: z.boolean().optional(),
}).strict();

export const RollbackBody = z.object({ to: via(v.releaseId).optional(), lock_timeout: duration, timeout: duration }).strict();
export const RotateBody = z.object({ services: z.array(z.enum(SERVICES)).optional(), lock_timeout: duration }).strict();
export const RegistryBody = z.object({
  registry: z.string().min(1).max(255), username: z.string().min(1).max(255), password: z.string().min(1).max(4096),
}).strict();
export const ServiceSetBody = z.object({
  url: z.string().max(2048).optional(), endpoint: z.string().max(2048).optional(), region: z.string().max(64).optional(),
  access_key: z.string().max(256).optional(), secret_key: z.string().max(1024).optional(),
}).strict();
export const ExposeBody = z.object({ domain: via(v.domain).nullable() }).strict();
export const ServiceName = z.enum(SERVICES);

/** Parses a body (or any value) with its schema; every problem in one error, each with its path. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown, what = 'body'): z.output<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join('.') || what, message: i.message }));
  const hint = r.error.issues.map((i) => (i as { params?: { hint?: string } }).params?.hint).find(Boolean);
  if (issues.length === 1) throw new ValidationError(issues[0]!.path, issues[0]!.message, hint);
  throw new BerthError('invalid', `${issues.length} problems: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, hint, { issues });
}
