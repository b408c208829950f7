import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { extractDir } from './export-dir.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo'; body?: string; linkname?: string };

function tarOf(entries: Entry[]): Readable {
  const p = pack();
  const mtime = new Date('2001-01-01T00:00:00Z'); // as a build that pins its times gives them
  for (const e of entries) {
    p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644, mtime }, e.body ?? '');
  }
  p.finalize();
  return p as unknown as Readable;
}

test('a directory\'s tar lands under dest, its own name taken off; links inside are kept', async () => {
  const dest = mkdtempSync(join(tmpdir(), 'berth-x-'));
  try {
    const r = await extractDir(tarOf([
      { name: 'dist/', type: 'directory' }, { name: 'dist/index.html', body: 'hi' }, { name: 'dist/assets/', type: 'directory' },
      { name: 'dist/assets/a.js', body: 'js!' }, { name: 'dist/home.html', type: 'symlink', linkname: 'index.html' },
      { name: 'dist/copy.js', type: 'link', linkname: 'dist/assets/a.js' },
    ]), dest, 'test');
    assert.deepEqual(r, { files: 2, bytes: 5, skipped: [] });
    assert.equal(readFileSync(join(dest, 'index.html'), 'utf8'), 'hi');
    assert.equal(readlinkSync(join(dest, 'home.html')), 'index.html');
    assert.equal(readFileSync(join(dest, 'copy.js'), 'utf8'), 'js!');
    assert.ok(statSync(join(dest, 'index.html')).mtimeMs > Date.now() - 60_000, 'the image\'s mtime was kept (releases would share ETags)');
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});

test('nothing of a hostile tar lands outside dest: .. names, symlinks out (absolute or relative), writes through a symlink, devices', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'berth-x-'));
  const dest = join(parent, 'release');
  try {
    const r = await extractDir(tarOf([
      { name: 'dist/', type: 'directory' },
      { name: 'dist/../../escaped.txt', body: 'out' },
      { name: 'dist/passwd', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'dist/up', type: 'symlink', linkname: '../../' },
      { name: 'dist/fifo', type: 'fifo' },
      { name: 'dist/ok.txt', body: 'ok' },
    ]), dest, 'test');
    assert.equal(existsSync(join(parent, 'escaped.txt')), false);
    assert.equal(readFileSync(join(dest, 'escaped.txt'), 'utf8'), 'out', 'a .. name is joined under dest');
    assert.equal(existsSync(join(dest, 'passwd')), false, 'a symlink to /etc/passwd was kept');
    assert.equal(existsSync(join(dest, 'up')), false);
    assert.equal(existsSync(join(dest, 'fifo')), false);
    assert.deepEqual(r.skipped, ['passwd -> /etc/passwd (points outside the directory)', 'up -> ../../ (points outside the directory)', 'fifo (a fifo)']);
    assert.equal(readFileSync(join(dest, 'ok.txt'), 'utf8'), 'ok');

    // a link to a directory inside, then a file under the link's name: refused, not written through
    await assert.rejects(extractDir(tarOf([
      { name: 'dist/', type: 'directory' }, { name: 'dist/d/', type: 'directory' }, { name: 'dist/l', type: 'symlink', linkname: 'd' },
      { name: 'dist/l/x.txt', body: 'through' },
    ]), join(parent, 'two'), 'test'), /not a valid path/);
    assert.equal(existsSync(join(parent, 'two', 'd', 'x.txt')), false);
    assert.ok(lstatSync(join(parent, 'two', 'l')).isSymbolicLink());
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('a path that is a file, not a directory, is refused', async () => {
  const dest = mkdtempSync(join(tmpdir(), 'berth-x-'));
  try {
    await assert.rejects(extractDir(tarOf([{ name: 'index.html', body: 'x' }]), dest, '/app/index.html of img'), /is not a directory \(it is a file\)/);
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
});
