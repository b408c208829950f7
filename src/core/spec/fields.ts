// The values berth.yml is made of, each one zod schema that checks it and turns it into the
// model's form (a command into argv, a duration into milliseconds). berth's own validators
// (lib/) do the checking where they exist, so a domain or a memory size means the same here as
// on the command line. Built on zod v4 (zod/v4), whose toJSONSchema writes the editors' schema.
import { posix } from 'node:path';
import { z } from 'zod/v4';
import { ValidationError } from '../../lib/errors.js';
import * as l from '../../lib/limits.js';
import { splitWords } from '../../lib/shell-words.js';
import * as v from '../../lib/validate.js';
import { unknownKeyMessage } from './suggest.js';

/** A strict mapping whose unknown keys are errors naming the closest known key. zod reports them
 *  in one issue per mapping; its message holds one line per key, in the order of `keys`. */
export function mapping<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? iss.keys.map((k) => unknownKeyMessage(k, known)).join('\n') : undefined),
  });
}

/** A value checked by one of berth's validators, its message and hint kept. */
export function via<I extends z.ZodType, T>(input: I, check: (raw: z.output<I>) => T) {
  return input.transform((raw, ctx): T => {
    try {
      return check(raw);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message.slice(e.path.length + 2), ...(e.hint ? { params: { hint: e.hint } } : {}) });
      return z.NEVER;
    }
  });
}

const NAME = /^[a-z][a-z0-9-]{0,19}$/;
const nameError = (what: string) => `not a valid ${what} name: use 1-20 lowercase letters, digits and hyphens, starting with a letter`;
/** Names of processes, cron entries and volumes: parts of container and volume names. */
export const processName = z.string().regex(NAME, { error: nameError('process') })
  .refine((n) => n !== 'run', { error: 'run is the name of one-off containers (berth run): choose another process name' })
  .meta({ id: 'process-name', description: 'a process name: 1-20 lowercase letters, digits and hyphens' });
export const cronName = z.string().regex(NAME, { error: nameError('cron entry') }).meta({ id: 'cron-name' });
export const volumeName = z.string().regex(NAME, { error: nameError('volume') }).meta({ id: 'volume-name' });

/** A command: one string split by the shell's quoting rules (no shell runs it), or argv. */
export const command = z.union([z.string(), z.array(z.string()).min(1, { error: 'the command is empty' })],
  { error: 'expected a command: a string or a list of strings' })
  .transform((c, ctx): string[] => {
    if (Array.isArray(c)) {
      if (c[0] === '') ctx.addIssue({ code: 'custom', message: 'the program name (first word) is empty' });
      return c;
    }
    try {
      return splitWords(c);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message.slice(e.path.length + 2),
        params: { hint: 'write it as a list of words (["sh", "-c", "..."] to run a shell on purpose), or quote the word' } });
      return z.NEVER;
    }
  })
  .meta({ id: 'command', description: 'a command: a string split into words by the shell\'s quoting rules (no shell runs it), or a list of words' });

/** 30s, 5m, 1h, 500ms or seconds as a number; in milliseconds. */
export const duration = via(z.union([z.string(), z.number()]), (d) => v.duration(d, ''))
  .meta({ id: 'duration', description: 'a duration: 500ms, 30s, 5m, 1h, or a number of seconds' });

export const memory = via(z.union([z.string(), z.number()]), (m) => l.memoryMb(m, ''))
  .meta({ id: 'memory', description: 'memory limit: 256m, 1g, or a number of megabytes' });
export const cpus = via(z.union([z.number(), z.string()]), (c) => l.cpus(c, '')).meta({ id: 'cpus', description: 'CPUs: 0.5, 1, 2' });

export const port = z.int({ error: 'expected a port number (1-65535)' }).min(1, { error: 'expected a port number (1-65535)' })
  .max(65535, { error: 'expected a port number (1-65535)' }).meta({ description: 'the TCP port the process listens on' });

export const domain = via(z.string(), (d) => v.domain(d, '')).meta({ id: 'domain', description: 'a hostname such as app.example.com' });
export const imageRef = via(z.string(), (i) => v.imageRef(i, '')).meta({ id: 'image-ref', description: 'an image reference: NAME[:TAG][@DIGEST]' });
export const urlPath = via(z.string(), (p) => v.healthPath(p, '')).meta({ id: 'url-path', description: 'an URL path such as /health' });

/** A path prefix: /api, /api/ and /api/* all mean /api and everything under it. */
export const pathPrefix = via(z.string(), (p) => {
  const bare = p.replace(/\/\*$/, '').replace(/\/+$/, '') || '/';
  if (!/^\/[A-Za-z0-9._~\/%-]{0,255}$/.test(bare) || bare.includes('//') || /(^|\/)\.\.?(\/|$)/.test(bare)) {
    throw new ValidationError('', `${JSON.stringify(p)} is not a path prefix`, 'use a path such as /api or /api/*');
  }
  return bare;
}).meta({ id: 'path-prefix', description: 'a path prefix: /api (or /api/*) matches /api and everything under it' });

/** A path inside an image, such as /app/dist. */
export const imagePath = via(z.string(), (p) => {
  if (!p.startsWith('/') || p.includes('\0') || /(^|\/)\.\.(\/|$)/.test(p)) {
    throw new ValidationError('', `${JSON.stringify(p)} is not an absolute path inside the image`, 'use e.g. /app/dist');
  }
  return posix.normalize(p).replace(/(.)\/$/, '$1');
}).meta({ id: 'image-path', description: 'an absolute path inside the image' });

/** A path on the user's side (a build context, a file) relative to the app's directory. */
export const relativePath = via(z.string(), (p) => {
  if (p === '' || p.includes('\0')) throw new ValidationError('', 'is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('git@')) {
    throw new ValidationError('', `${JSON.stringify(p)} is a URL; berth builds from a directory of the repository`, 'clone it, then give its path');
  }
  if (posix.isAbsolute(p)) throw new ValidationError('', `${JSON.stringify(p)} is absolute`, 'give a path relative to the file, such as ./app');
  return posix.normalize(p).replace(/(.)\/$/, '$1');
}).meta({ id: 'relative-path', description: 'a path relative to this file' });

const scalar = z.union([z.string(), z.number(), z.boolean()]).meta({ id: 'scalar', description: 'a string, number or boolean, taken as a string' });
/** Env vars: names checked as `berth config set` checks them (berth's own keys refused), values as strings. */
export const envMap = z.record(via(z.string(), (k) => v.envKey(k, '')), via(scalar, (x) => v.envValue(String(x), '')))
  .meta({ id: 'env', description: 'environment variables (not secrets: use berth config set for those); values are strings' });

/** Build args: any scalar, as a string (as docker build takes them). */
export const buildArgs = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'not a build arg name' }), scalar.transform(String));
