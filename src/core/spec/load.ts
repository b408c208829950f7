// The app's description from the disk: the one place this module reads files.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import { SpecInvalid } from './issues.js';
import type { Env } from './interpolate.js';
import { type Checked, checkSpec } from './resolve.js';
import { findSpecFile, isDir, SPEC_FILES } from './files.js';
import type { AppSpec } from './schema.js';

export { findSpecFile, SPEC_FILES } from './files.js';

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** Reads and checks the description at `target` (a file or a directory): the model, or every problem.
 *  Throws not_found when there is no such file (or none of SPEC_FILES in the directory). */
export function checkAppSpec(target: string, env: Env = {}, opts: { compose?: boolean } = {}): Checked & { path: string } {
  const path = findSpecFile(target);
  if (!path) {
    if (!isDir(target)) throw new BerthError('not_found', `${target} does not exist`);
    throw new BerthError('not_found', `no app description in ${target}: none of ${SPEC_FILES.join(', ')}`,
      'write a berth.yml (docs/berth-yml.md), or give the file: berth spec check path/to/docker-compose.yml');
  }
  const appDir = dirname(path);
  return { ...checkSpec({ file: relative(appDir, path), readText: (p) => readOrNull(resolve(appDir, p)), env, ...opts }), path };
}

/** The app's description, or SpecInvalid (exit status 2) with every problem. */
export function loadAppSpec(target: string, env: Env = {}, opts: { compose?: boolean } = {}): { spec: AppSpec; warnings: string[] } {
  const r = checkAppSpec(target, env, opts);
  if (!r.ok) throw new SpecInvalid(r.issues, r.warnings);
  return { spec: r.spec, warnings: r.warnings };
}
