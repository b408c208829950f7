// Where an app's description is: kept apart from the schema and the YAML parser, so that a
// command finds out whether there is one without loading them.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';

/** The files looked for in a directory, in this order (compose's own order for its names). */
export const SPEC_FILES = ['berth.yml', 'berth.yaml', 'compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

export const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true;

/** The file to start from: `target` itself, or the first of SPEC_FILES in the directory `target`. */
export function findSpecFile(target: string): string | null {
  if (!isDir(target)) return statSync(target, { throwIfNoEntry: false }) ? resolve(target) : null;
  return SPEC_FILES.map((f) => resolve(target, f)).find((f) => statSync(f, { throwIfNoEntry: false })?.isFile()) ?? null;
}
