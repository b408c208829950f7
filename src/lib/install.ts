// Where berth is installed: the directory of its package.json, found by walking up from this
// module. The same answer from tsc's output (dist/src/lib) and from the CLI's bundle
// (dist/cli, scripts/bundle-cli.mjs), which moves modules: so no path here is relative to a module.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function installRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`berth's package.json is not above ${fileURLToPath(import.meta.url)}`);
  }
}

/** A file of tsc's output (dist/src/...): what runs in a process of its own (the daemon, workers). */
export const distFile = (...parts: string[]) => join(installRoot(), 'dist', 'src', ...parts);

/** A file of berth's sources that is not compiled (scripts and sources copied into images). */
export const sourceFile = (...parts: string[]) => join(installRoot(), ...parts);
