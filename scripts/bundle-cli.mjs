// The CLI as a bundle (dist/cli), made from tsc's output by `npm run build`: what every command
// loads in one ES module, and a chunk for each of the few modules that commands import on demand.
// Loading some 50 modules one at a time costs Node's ES module loader about 25 ms of every
// command's start (README, "Benchmarks"). The daemon and the workers stay tsc's output
// (dist/src): they run as processes of their own, started by path (src/lib/install.ts).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/cli', { recursive: true, force: true }); // chunks are named by hash: old ones would pile up

await build({
  entryPoints: ['dist/src/cli/entry.js'],
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // commander and yaml are CommonJS: their require() calls need a require in each chunk
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  logLevel: 'warning',
});
