// The daemon API's request bodies: one zod schema per body, used by the daemon to parse every
// request and by the CLI to check what it sends before it leaves the machine, so both say the
// same thing. Every problem is reported, each with its path (not only the first).
import { z } from 'zod';
import { BerthError, ValidationError } from '../lib/errors.js';
import * as l from '../lib/limits.js';
import * as v from '../lib/validate.js';
import { SERVICES } from '../state/service-names.js';
import * as bv from '../runtime/build/validate.js';

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

/** Memory, CPU, processes and capabilities of an app's processes (lib/limits.ts). */
const limitFields = {
  memory: via(l.memoryMb).optional(), cpus: via(l.cpus).optional(), pids: via(l.pids).optional(),
  cap_add: z.array(via(l.capability)).max(40).optional(),
};

/** PostgreSQL connections an app's logins may hold together (see provisioning/postgres-limits.ts). */
const pgConnections = z.number({ invalid_type_error: 'must be a whole number of connections' }).int('must be a whole number of connections')
  .min(1, 'must be at least 1').max(10_000, 'must be at most 10000');

export const AppCreateBody = z.object({
  name: via(v.appName), domains: z.array(via(v.domain)).min(1, 'at least one domain is required').max(50),
  port: via(v.port).optional(), health_path: via(v.healthPath).optional(), services: z.array(z.enum(SERVICES)).optional(),
  limits: z.object(limitFields).strict().optional(), pg_connections: pgConnections.optional(),
  /** the shared Redis (default), or a Redis of the app's own with its own memory limit */
  redis: z.enum(['shared', 'dedicated']).optional(),
}).strict();

export const LimitsBody = z.object({
  ...limitFields, cap_remove: z.array(via(l.capability)).max(40).optional(), deploy: z.boolean().optional(), lock_timeout: duration,
}).strict();

/** PATCH /apps/NAME: settings that apply without a release; pg_connections null: back to the default. */
export const AppUpdateBody = z.object({ pg_connections: pgConnections.nullable().optional() }).strict();

export const DomainsBody = z.object({ add: z.array(via(v.domain)).max(50).optional(), remove: z.array(via(v.domain)).max(50).optional() }).strict();

export const ConfigBody = z.object({
  set: z.record(via(v.envValue)).optional()
    .superRefine((set, c) => Object.keys(set ?? {}).forEach((k) => {
      try { v.envKey(k); } catch (e) {
        c.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: (e as ValidationError).message.slice((e as ValidationError).path.length + 2) });
      }
    })),
  unset: z.array(via(v.envKeyName)).optional(), deploy: z.boolean().optional(), lock_timeout: duration,
}).strict();

/** A build from source: a directory on the daemon's host (the CLI resolves it) and the build's inputs. */
export const BuildSpecBody = z.object({
  context: via(bv.contextDir), dockerfile: via(bv.dockerfilePath).optional(), args: via(bv.buildArgs).optional(),
  target: via(bv.stageName).optional(),
}).strict();

/** argv, run without a shell; only the program's name must not be empty. */
const argv = z.array(z.string().max(4096)).min(1, 'give the command to run').max(256).refine((a) => a[0] !== '', 'the program name (first word) is empty');

/** A cron entry's name, as berth.yml names it. */
export const CronJobName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'is not a cron job name (lower-case letters, digits, dashes)');

/** POST /apps/NAME/runs: a command in a one-off container of the live release. */
/** A backup by its id (none: the latest). */
export const BackupVerifyBody = z.object({ id: z.number().int().positive().optional() }).strict();
/** An off-site S3 target: checked again in core (offsite.ts checkTarget). */
export const BackupTargetBody = z.object({
  name: z.string().min(1).max(40), endpoint: z.string().min(1).max(500), bucket: z.string().min(1).max(63),
  region: z.string().min(1).max(64).default('us-east-1'),
  prefix: z.string().max(200).default(''), access_key: z.string().min(1).max(200), secret_key: z.string().min(1).max(500),
}).strict();
export const NotifyBody = z.object({ url: z.string().min(1).max(2000).nullable() }).strict();
/** `at`: an instant to restore to from the WAL archive (text the user gave: parsePitrTime), instead of a backup `id`. */
export const BackupRestoreBody = BackupVerifyBody.extend({ dry_run: z.boolean().optional(), at: z.string().min(1).max(64).optional() })
  .refine((b) => b.id === undefined || b.at === undefined, { message: 'give a backup id or an instant (--at), not both' });
export const PitrBaseBody = z.object({ type: z.enum(['full', 'diff']).optional() }).strict();
export const RestoreDataBody = z.object({ from_archive: z.boolean() }).strict();
export const PlatformBackupBody = z.object({ images: z.boolean().optional() }).strict();
/** An app's backup policy: what is given changes, the rest stays; a schedule of null turns it off. */
const keep = z.number().int().min(0).max(1000).optional();
const cronText = z.string().min(1).max(100).nullable().optional();
export const BackupPolicyBody = z.object({
  schedule: cronText, verify_schedule: cronText, timezone: z.string().min(1).max(64).optional(), verify_after: z.boolean().optional(),
  keep_daily: keep, keep_weekly: keep, keep_monthly: keep, platform_volumes: z.boolean().optional(), platform_bucket: z.boolean().optional(),
}).strict();

export const RunBody = z.object({ cmd: argv, process: via(v.processName).optional(), timeout: duration }).strict();
/** `berth run -i/-t`: stdin kept open, a terminal of the caller's size (rows, columns). */
const termSide = z.number().int().min(1).max(1000).optional();
export const AttachedRunBody = RunBody.extend({ stdin: z.boolean(), tty: z.boolean(), rows: termSide, cols: termSide });

export const DeployBody = z.object({
  image: via(v.imageRef).optional(), build: BuildSpecBody.optional(), port: via(v.port).optional(), health_path: via(v.healthPath).optional(),
  // argv, run without a shell; only the program's name must not be empty
  release_command: z.array(z.string().max(4096)).min(1).max(64).refine((a) => a[0] !== '', 'the program name (first word) is empty').optional(),
  timeout: duration, release_timeout: duration, lock_timeout: duration, dry_run: z.boolean().optional(),
  /** Processes besides web, by name: a command each (argv, no shell), null to take one away. */
  processes: z.record(z.string(), z.object({
    cmd: z.array(z.string().max(4096)).min(1).max(256).refine((a) => a[0] !== '', 'the program name (first word) is empty'),
    stop_grace: duration,
  }).strict().nullable()).superRefine((ps, c) => {
    for (const name of Object.keys(ps)) {
      try { v.processName(name, name); } catch (e) { c.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: (e as Error).message }); }
    }
  }).optional(),
  /** The app's description: a berth.yml document, already merged with its compose file (the
   *  daemon parses it with the spec schema), and the directory its relative paths start from. */
  spec: z.record(z.unknown()).optional(), spec_dir: via(bv.contextDir).optional(),
}).strict();

/** `berth scale`: copies per process. */
export const ScaleBody = z.object({ processes: z.record(z.string(), z.number().int().min(0).max(20)), lock_timeout: duration }).strict();

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
/** berth services move s3: Garage is the one store berth moves a bundled MinIO to */
export const MoveBody = z.object({
  to: z.enum(['garage'], { errorMap: () => ({ message: 'berth moves object storage to garage only' }) }), dry_run: z.boolean().optional(),
}).strict();
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
