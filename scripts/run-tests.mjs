// Runs the compiled tests with node's built-in runner. Unit tests sit beside the code
// (dist/src/**/*.test.js); integration tests (dist/test/integration) need Docker Engine.
// Files run one at a time: integration tests share the machine's ports and engine.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pinnedNode } from './pinned-node.mjs';

const unitOnly = process.argv.includes('--unit');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--test-'));
const find = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? find(p) : p.endsWith('.test.js') ? [p] : [];
});
// only tests whose source still exists: dist keeps files of sources moved or deleted since
const hasSource = (f) => existsSync(f.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
let files = [...find('dist/src'), ...(unitOnly ? [] : find('dist/test'))].filter(hasSource);
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
const r = spawnSync(pinnedNode, ['--test', '--test-concurrency=1', '--enable-source-maps', ...passthrough, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
