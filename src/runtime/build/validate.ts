// Checks of a build request at the edge (CLI and daemon): a context directory that exists, a
// Dockerfile inside it, build-arg names and a stage name the builders accept. Each returns the
// clean value or throws a ValidationError that says how to fix it.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, normalize, resolve, sep } from 'node:path';
import { ValidationError } from '../../lib/errors.js';
import { plainText } from '../../lib/validate.js';

const ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// Docker's stage names: a letter first, then letters, digits, '-', '_' and '.'
const STAGE = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
const MAX_ARGS = 100;

/** An absolute path to a directory that exists. */
export function contextDir(raw: unknown, path = 'build.context'): string {
  if (typeof raw !== 'string' || raw === '') throw new ValidationError(path, 'is required');
  if (raw.includes('\0')) throw new ValidationError(path, 'must not contain NUL bytes');
  if (!isAbsolute(raw)) throw new ValidationError(path, `${JSON.stringify(raw)} is not an absolute path`, 'the CLI sends the directory it resolved');
  const dir = resolve(raw);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ValidationError(path, `${dir} is not a directory on the daemon's host`,
      'give the directory that holds the Dockerfile: berth deploy APP --build DIR');
  }
  return dir;
}

/** A Dockerfile path relative to the context, normalized, that stays inside it (pure). */
export function dockerfilePath(raw: unknown, path = 'build.dockerfile'): string {
  if (raw === undefined) return 'Dockerfile';
  if (typeof raw !== 'string' || raw === '' || raw.includes('\0')) throw new ValidationError(path, 'must be a non-empty path');
  const rel = normalize(raw).replace(/^(\.\/)+/, '');
  if (isAbsolute(raw) || rel === '..' || rel.startsWith(`..${sep}`) || rel === '.' || rel.endsWith(sep)) {
    throw new ValidationError(path, `${JSON.stringify(raw)} is not a file inside the build context`,
      'give it relative to the context, e.g. docker/Dockerfile.prod');
  }
  return rel;
}

/** The Dockerfile exists in the context (checked on the daemon's host). */
export function mustHaveDockerfile(context: string, dockerfile: string, path = 'build.dockerfile'): void {
  const file = resolve(context, dockerfile);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ValidationError(path, `${file} does not exist`, 'add a Dockerfile to the context, or name it with --dockerfile');
  }
}

export function buildArgKey(raw: unknown, path = 'build.args'): string {
  if (typeof raw !== 'string' || !ARG_KEY.test(raw)) {
    throw new ValidationError(path, `${JSON.stringify(String(raw)).slice(0, 60)} is not a valid build-arg name`,
      'use letters, digits and underscores, not starting with a digit (e.g. NODE_ENV)');
  }
  return raw;
}

export const buildArgValue = (raw: unknown, path = 'build.args'): string => plainText(raw, path, 16);

export function buildArgs(raw: unknown, path = 'build.args'): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(path, 'must be an object of NAME: value');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_ARGS) throw new ValidationError(path, `has more than ${MAX_ARGS} entries`);
  return Object.fromEntries(entries.map(([k, val]) => [buildArgKey(k, `${path}.${k}`), buildArgValue(val, `${path}.${k}`)]));
}

/** `K=V` pairs as typed on the command line (`--build-arg K=V`, repeatable); V may be empty. */
export function buildArgPairs(pairs: string[], path = 'build_arg'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new ValidationError(path, `${JSON.stringify(p)} is not NAME=VALUE`, 'e.g. --build-arg NODE_ENV=production');
    out[buildArgKey(p.slice(0, i), path)] = buildArgValue(p.slice(i + 1), path);
  }
  return out;
}

export function stageName(raw: unknown, path = 'build.target'): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !STAGE.test(raw)) {
    throw new ValidationError(path, `${JSON.stringify(String(raw)).slice(0, 60)} is not a valid stage name`,
      'name a stage of the Dockerfile (FROM ... AS NAME): letters, digits, -, _ and ., starting with a letter');
  }
  return raw;
}
