// Validation at the edge: every name, domain, key and image reference a user gives passes
// through here before anything reaches Docker or Caddy. Each check returns the clean value or
// throws a ValidationError that says what is wrong and how to fix it.
import { ValidationError } from './errors.js';
import { parseImageRef } from './image-ref.js';

const APP_NAME = /^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const RELEASE = /^v[1-9][0-9]{0,8}$/;

/** Keys berth injects into releases; user config may not set them (berth's value would win
 *  without a word). src/core/deploy/env.test.ts checks that every key berth sets is here. */
export const RESERVED_ENV_KEYS = new Set(['APP_NAME', 'APP_DOMAIN', 'PORT', 'BERTH_RELEASE', 'DATABASE_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX',
  'S3_ENDPOINT', 'S3_PUBLIC_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION',
  'AWS_REQUEST_CHECKSUM_CALCULATION', 'AWS_RESPONSE_CHECKSUM_VALIDATION']);

function describe(v: string): string {
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
}

export function appName(raw: unknown, path = 'name'): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new ValidationError(path, 'is required');
  if (!APP_NAME.test(raw)) {
    throw new ValidationError(path, `${describe(raw)} is not a valid app name`,
      'use 1-30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (e.g. my-app)');
  }
  return raw;
}

export function domain(raw: unknown, path = 'domain'): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new ValidationError(path, 'is required');
  const d = raw.toLowerCase().replace(/\.$/, '');
  const hint = 'give a hostname such as app.example.com: letters, digits, hyphens and dots only (use punycode, xn--…, for non-ASCII names)';
  if (d.length > 253) throw new ValidationError(path, `${describe(raw)} is longer than 253 characters`, hint);
  const labels = d.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1]!)) {
    throw new ValidationError(path, `${describe(raw)} is not a valid domain name`, hint);
  }
  return d;
}

/** An environment variable name, reserved or not (what `config unset` takes: a key stored before
 *  berth reserved it can still go). */
export function envKeyName(raw: unknown, path = 'key'): string {
  if (typeof raw !== 'string' || !ENV_KEY.test(raw)) {
    throw new ValidationError(path, `${describe(String(raw))} is not a valid environment variable name`,
      'use letters, digits and underscores, not starting with a digit (e.g. SMTP_HOST)');
  }
  return raw;
}

/** A name the user may set: not one berth sets. */
export function envKey(raw: unknown, path = 'key'): string {
  const key = envKeyName(raw, path);
  if (RESERVED_ENV_KEYS.has(key)) throw new ValidationError(path, `${key} is set by berth and cannot be changed`);
  return key;
}

/** A string a program gets as it is (an env value, a build arg): no NUL, at most maxKiB. */
export function plainText(raw: unknown, path: string, maxKiB: number): string {
  if (typeof raw !== 'string') throw new ValidationError(path, 'must be a string');
  if (raw.includes('\0')) throw new ValidationError(path, 'must not contain NUL bytes');
  if (Buffer.byteLength(raw) > maxKiB * 1024) throw new ValidationError(path, `is larger than ${maxKiB} KiB`);
  return raw;
}

export const envValue = (raw: unknown, path = 'value'): string => plainText(raw, path, 64);

/** Parses KEY=VALUE pairs as given on the command line. */
export function envPairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  pairs.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ValidationError(`config[${i}]`, `${describe(p)} is not KEY=VALUE`);
    out[envKey(p.slice(0, eq), `config[${i}].key`)] = envValue(p.slice(eq + 1), `config[${i}].value`);
  });
  return out;
}

export function imageRef(raw: unknown, path = 'image'): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new ValidationError(path, 'is required');
  if (!parseImageRef(raw)) {
    throw new ValidationError(path, `${describe(raw)} is not a valid image reference`,
      'use NAME[:TAG][@DIGEST], e.g. registry.example.com/team/app:1.4.2');
  }
  return raw;
}

export function healthPath(raw: unknown, path = 'health_path'): string {
  if (typeof raw !== 'string' || !/^\/[A-Za-z0-9._~\/%?=&+-]{0,255}$/.test(raw)) {
    throw new ValidationError(path, `${describe(String(raw))} is not a valid URL path`, 'use a path such as /health or /up');
  }
  return raw;
}

export function port(raw: unknown, path = 'port'): number {
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ValidationError(path, `${describe(String(raw))} is not a port number (1-65535)`);
  }
  return n;
}

/** A process's name: lower-case letters, digits and dashes (compose's `celery-worker`), and not
 *  ending like a release (`-v3`), which would make unit names ambiguous. */
export function processName(raw: unknown, path = 'process'): string {
  if (typeof raw !== 'string' || !/^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$/.test(raw) || /-v\d+$/.test(raw) || raw === 'run') {
    throw new ValidationError(path, `${JSON.stringify(raw)} is not a process name: lower-case letters, digits and dashes, up to 30, ` +
      "not 'run' and not ending in -v<number>", 'e.g. worker, beat, celery-worker');
  }
  return raw;
}

export function releaseId(raw: unknown, path = 'release'): string {
  if (typeof raw !== 'string' || !RELEASE.test(raw)) {
    throw new ValidationError(path, `${describe(String(raw))} is not a release id`, 'release ids look like v3: see berth releases NAME');
  }
  return raw;
}

/** Durations such as 30s, 5m, 1h or a bare number of seconds, returned in milliseconds. */
export function duration(raw: unknown, path = 'duration'): number {
  const m = typeof raw === 'number' ? [String(raw), String(raw), 's'] : /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?$/.exec(String(raw));
  if (!m) throw new ValidationError(path, `${describe(String(raw))} is not a duration`, 'use e.g. 500ms, 30s, 5m or 1h');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}
