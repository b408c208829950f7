import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildInputs, buildTag, contextEntries, contextHash, excluder, hasExceptions, ignorePatterns } from './context.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

const SOURCE = {
  'Dockerfile': 'FROM x\nCOPY . /app\n', '.dockerignore': '# comment\n\nnode_modules\n*.log\n!keep.log\nsecret/\n!secret/public.txt\n',
  'app.js': 'console.log(1)', 'debug.log': 'x', 'keep.log': 'y', 'sub/a.log': 'nested: not matched by *.log',
  'node_modules/m/index.js': 'm', 'secret/key.pem': 'k', 'secret/public.txt': 'p',
};
const paths = (dir: string) => contextEntries(dir, 'Dockerfile').map((e) => `${e.kind[0]} ${e.path}`);
const inputs: BuildInputs = { dockerfile: 'Dockerfile', args: {} };

test('a .dockerignore is read as Docker reads it: comments and blank lines dropped', () => {
  assert.deepEqual(ignorePatterns('# c\n\n  a  \r\n!b\n'), ['a', '!b']);
  assert.equal(hasExceptions(['a', '!b']), true);
  assert.equal(hasExceptions(['a']), false);
});

test('the Dockerfile and the .dockerignore always reach the builder, even when ignored', () => {
  const ex = excluder(['*', 'Dockerfile.prod'], 'Dockerfile.prod');
  assert.equal(ex('Dockerfile.prod'), false);
  assert.equal(ex('.dockerignore'), false);
  assert.equal(ex('app.js'), true);
});

test('the context holds what .dockerignore keeps: exceptions under an excluded directory come back', () => {
  const dir = tree(SOURCE);
  assert.deepEqual(paths(dir), [
    'f .dockerignore', 'f Dockerfile', 'f app.js', 'f keep.log', 'd secret', 'f secret/public.txt', 'd sub', 'f sub/a.log',
  ]);
});

test('an excluded directory leaves nothing behind, not even itself', () => {
  const dir = tree({ 'Dockerfile': 'FROM x', '.dockerignore': 'node_modules\n', 'a.js': '', 'node_modules/x.js': '', 'node_modules/deep/y.js': '' });
  assert.deepEqual(paths(dir), ['f .dockerignore', 'f Dockerfile', 'f a.js']);
});

test('symbolic links are kept as links, not followed', () => {
  const dir = tree({ 'Dockerfile': 'FROM x', 'real.txt': 'r' });
  symlinkSync('real.txt', join(dir, 'link.txt'));
  assert.deepEqual(paths(dir), ['f Dockerfile', 's link.txt', 'f real.txt']);
});

test('the hash follows the content that reaches the builder, and nothing else', async () => {
  const a = tree(SOURCE);
  const b = tree(SOURCE); // another directory, same source
  const hash = (dir: string, i = inputs) => contextHash(dir, contextEntries(dir, i.dockerfile), i);
  const base = await hash(a);
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(await hash(b), base, 'where the source lies does not matter');
  writeFileSync(join(b, 'debug.log'), 'changed, but ignored');
  writeFileSync(join(b, 'node_modules/m/index.js'), 'changed, but ignored');
  assert.equal(await hash(b), base);
  writeFileSync(join(b, 'app.js'), 'console.log(2)');
  assert.notEqual(await hash(b), base, 'a kept file changed');
  writeFileSync(join(b, 'app.js'), 'console.log(1)');
  chmodSync(join(b, 'app.js'), 0o755);
  assert.notEqual(await hash(b), base, 'a mode changed');
  const withArgs = await hash(a, { dockerfile: 'Dockerfile', args: { A: '1', B: '2' } });
  assert.notEqual(withArgs, base);
  assert.equal(await hash(a, { dockerfile: 'Dockerfile', args: { B: '2', A: '1' } }), withArgs, 'the order of build args does not matter');
  assert.notEqual(await hash(a, { dockerfile: 'Dockerfile', args: { A: '12', B: '' } }), withArgs, 'fields never run together');
  assert.notEqual(await hash(a, { ...inputs, target: 'prod' }), base);
});

test('the tag names the app and the hash', () => {
  assert.equal(buildTag('web', 'ab'.repeat(32)), 'berth/web:build-abababababababab');
});
