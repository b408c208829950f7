// Runs one benchmark on demand: npm run bench -- <name> [args...]
// Benchmarks are the compiled top-level files dist/bench/<name>.js. Each prints progress on
// stderr and, as the last line of stdout, one JSON object with its results.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { pinnedNode } from './pinned-node.mjs';
import { fileURLToPath } from 'node:url';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bench');
const available = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3)).sort() : [];
const [name, ...args] = process.argv.slice(2);

if (!name || name === '--help' || name === '-h' || !available.includes(name)) {
  if (name && !['--help', '-h'].includes(name)) process.stderr.write(`unknown benchmark: ${name}\n`);
  process.stderr.write(`usage: npm run bench -- <name> [args...]\navailable benchmarks:\n${available.map((b) => `  ${b}`).join('\n') || '  (none: build first with npm run build)'}\n`);
  process.exit(2);
}

const child = spawn(pinnedNode, ['--enable-source-maps', join(dir, `${name}.js`), ...args], { stdio: 'inherit' });
// Let the benchmark clean up its platform on Ctrl-C: forward the signal, then wait for it.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
