// The seed-shaped apps in test/fixtures/apps (Towlion's compose file, seed 003's SPA): each test
// and bench works on a copy of its own, which it may edit (a new version, a broken Dockerfile).
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAMPLE } from './platform.js';

export const fixtureApp = (...parts: string[]) => join(process.cwd(), 'test', 'fixtures', 'apps', ...parts);

/** A copy of the fixture app in a new temporary directory; a berth.yml.in becomes its berth.yml,
 *  with the local sample image as the images' base (berth.yml has no ${VAR}: compose files do). */
export function copyFixtureApp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-${name}-`));
  cpSync(fixtureApp(name), dir, { recursive: true });
  const template = join(dir, 'berth.yml.in');
  if (existsSync(template)) writeFileSync(join(dir, 'berth.yml'), readFileSync(template, 'utf8').replaceAll('@BASE@', SAMPLE));
  return dir;
}

/** Copies the npm packages named, with every package they depend on, from this repository's
 *  node_modules into `<dir>/node_modules` (a fixture app's image then needs no registry). */
export function copyPackages(names: string[], dir: string): void {
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const from = join(process.cwd(), 'node_modules', name);
    const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    cpSync(from, join(dir, 'node_modules', name), { recursive: true, dereference: true });
    for (const d of Object.keys(pkg.dependencies ?? {})) visit(d);
  };
  names.forEach(visit);
}
