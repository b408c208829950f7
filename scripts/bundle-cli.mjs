// The CLI as a bundle (dist/cli), made from tsc's output by `npm run build`: what every command
// loads in one ES module, and a chunk for each of the few modules that commands import on demand.
// Loading some 50 modules one at a time costs Node's ES module loader about 20 ms of every
// command's start (README, "Benchmarks"). The daemon and the workers stay tsc's output
// (dist/src): they run as processes of their own, started by path (src/lib/install.ts).
import { renameSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// A package imported on demand stays Node's to load, as from tsc's output: esbuild's chunk for a
// CommonJS package (tar-fs) exports only its default, and `const { extract } = await import(...)`
// would find nothing there.
const onDemandPackagesStayOut = {
  name: 'on-demand-packages-stay-out',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (a.kind === 'dynamic-import' && !a.path.startsWith('node:') ? { path: a.path, external: true } : undefined));
  },
};

// built beside and swapped in: dist/cli is never half-written (chunks are named by hash: old
// ones go with the old directory)
rmSync('dist/cli.next', { recursive: true, force: true });
await build({
  entryPoints: ['dist/src/cli/entry.js'],
  outdir: 'dist/cli.next',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // commander and yaml are CommonJS: their require() calls need a require in each chunk
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  plugins: [onDemandPackagesStayOut],
  logLevel: 'warning',
});
rmSync('dist/cli.old', { recursive: true, force: true });
try { renameSync('dist/cli', 'dist/cli.old'); } catch (e) { if (e.code !== 'ENOENT') throw e; }
renameSync('dist/cli.next', 'dist/cli');
rmSync('dist/cli.old', { recursive: true, force: true });
