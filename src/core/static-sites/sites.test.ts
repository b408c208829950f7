import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '../../runtime/fake.js';
import { pruneList, siteLayout } from './layout.js';
import { StaticSites } from './sites.js';

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'berth-static-'));
  const rt = new FakeRuntime();
  rt.addImage('front:1', undefined, { '/app/dist/index.html': 'one', '/app/dist/assets/a.1234abcd.js': 'a1' });
  rt.addImage('front:2', undefined, { '/app/dist/index.html': 'two' });
  return { root, rt, sites: new StaticSites(join(root, 'static'), rt), done: () => rmSync(root, { recursive: true, force: true }) };
}

test('a release is filled from the image, then served through one flip of current; a rollback flips back', async () => {
  const { root, sites, done } = setup();
  try {
    const v1 = await sites.prepare('shop', 'v1', 'front:1', '/app/dist');
    assert.deepEqual([v1.files, v1.bytes, v1.reused], [2, 5, false]);
    assert.equal(v1.dir, join(root, 'static', 'shop', 'releases', 'v1'));
    assert.equal(sites.current('shop'), null);
    sites.point('shop', 'v1');
    assert.equal(readlinkSync(join(root, 'static', 'shop', 'current')), 'releases/v1', 'the link is relative');
    assert.equal(readFileSync(join(sites.servedDir('shop'), 'index.html'), 'utf8'), 'one');
    await sites.prepare('shop', 'v2', 'front:2', '/app/dist');
    assert.equal(readFileSync(join(sites.servedDir('shop'), 'index.html'), 'utf8'), 'one', 'preparing v2 changed what is served');
    sites.point('shop', 'v2');
    assert.equal(readFileSync(join(sites.servedDir('shop'), 'index.html'), 'utf8'), 'two');
    sites.point('shop', 'v1');
    assert.equal(sites.current('shop'), 'v1');
    assert.deepEqual(readdirSync(join(root, 'static', 'shop')).sort(), ['current', 'releases'], 'a flip left a temporary link behind');
    assert.throws(() => sites.point('shop', 'v9'), /release v9 has no files/);
  } finally {
    done();
  }
});

test('prepare is idempotent: a complete release is kept, a fill cut short by a crash is redone', async () => {
  const { root, rt, sites, done } = setup();
  try {
    await sites.prepare('shop', 'v1', 'front:1', '/app/dist');
    const again = await sites.prepare('shop', 'v1', 'front:1', '/app/dist');
    assert.equal(again.reused, true);
    // a crash mid-fill left a partial directory: not a release, and cleared by the next prepare
    const partial = join(root, 'static', 'shop', 'releases', '.partial-v2-dead');
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'index.html'), 'half');
    assert.throws(() => sites.point('shop', 'v2'));
    const v2 = await sites.prepare('shop', 'v2', 'front:2', '/app/dist');
    assert.equal(v2.reused, false);
    assert.equal(existsSync(partial), false);
    assert.equal(readFileSync(join(v2.dir, 'index.html'), 'utf8'), 'two');
    // a fill that fails leaves neither a release nor a partial directory
    rt.addImage('broken:1', undefined, {});
    await assert.rejects(sites.prepare('shop', 'v3', 'broken:1', '/app/dist'), /no such directory/);
    assert.deepEqual(readdirSync(join(root, 'static', 'shop', 'releases')).sort(), ['v1', 'v2']);
  } finally {
    done();
  }
});

test('prune keeps the releases asked for and the current one; remove takes the whole site', async () => {
  const { root, sites, done } = setup();
  try {
    for (const v of ['v1', 'v2', 'v3', 'v4']) await sites.prepare('shop', v, 'front:1', '/app/dist');
    sites.point('shop', 'v2');
    assert.deepEqual(sites.prune('shop', ['v4', 'v3']), ['v1']);
    assert.deepEqual(readdirSync(join(root, 'static', 'shop', 'releases')).sort(), ['v2', 'v3', 'v4']);
    assert.deepEqual(sites.prune('other', []), []);
    sites.remove('shop');
    assert.equal(existsSync(join(root, 'static', 'shop')), false);
  } finally {
    done();
  }
});

test('the layout refuses names that would leave the site\'s directory; prune\'s list is pure', () => {
  assert.throws(() => siteLayout('/d/static', '..'), /not a valid app name/);
  assert.throws(() => siteLayout('/d/static', 'a').release('../x'), /not a valid release name/);
  assert.deepEqual(pruneList(['v1', 'v2', '.partial-v3-ab', 'v3'], ['v3'], 'v1'), ['.partial-v3-ab', 'v2']);
});
