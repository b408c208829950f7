import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS, openDb, transaction } from './db.js';
import { Store } from './store.js';

const fresh = () => new Store(openDb(join(mkdtempSync(join(tmpdir(), 'berth-db-')), 'berth.db')));

test('the state file is 0600 and migrated to the latest schema, once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-db-'));
  const file = join(dir, 'berth.db');
  openDb(file).close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const db = openDb(file); // a second open finds nothing to migrate
  assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, MIGRATIONS.length);
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
});

test('rows in and out: apps, releases numbered per app, deploys and their journal', () => {
  const s = fresh();
  s.insertApp({ name: 'a', port: 8000, health_path: '/health' });
  s.setDomains('a', ['a.test', 'www.a.test']);
  const base = {
    app: 'a', image: 'img:1', image_id: null, digest: null, port: 8000, health_path: '/health', processes: '{}', env: 'enc', actor: 't', note: null,
  };
  const r1 = s.insertRelease(base);
  const r2 = s.insertRelease({ ...base, image: 'img:2' });
  assert.deepEqual([r1.seq, r2.seq, r2.state], [1, 2, 'pending']);
  assert.deepEqual(s.releasesOf('a').map((r) => r.image), ['img:2', 'img:1']);
  assert.deepEqual(s.domainsOf('a'), ['a.test', 'www.a.test']);
  const d = s.insertDeploy({ app: 'a', kind: 'deploy', release_id: r2.id, previous_release_id: r1.id, actor: 't' });
  s.journal(d.id, 'switch', 'started');
  assert.equal(s.stepDone(d.id, 'switch'), false);
  s.journal(d.id, 'switch', 'done', { to: r2.id });
  assert.equal(s.stepDone(d.id, 'switch'), true);
  assert.equal(s.runningDeploys()[0]!.step, 'switch');
  assert.ok(s.tryLock({ app: 'a', deploy_id: d.id, actor: 't', daemon_boot: 'b1' }));
  assert.ok(!s.tryLock({ app: 'a', deploy_id: 99, actor: 't', daemon_boot: 'b1' }));
  assert.deepEqual(s.staleLocks('b2').map((l) => l.deploy_id), [d.id]);
  s.deleteApp('a');
  assert.deepEqual(s.releasesOf('a'), [], 'releases go with their app (foreign keys are on)');
});

test('a transaction that throws leaves nothing behind; nested ones join the outer', () => {
  const s = fresh();
  assert.throws(() => s.tx(() => {
    s.insertApp({ name: 'x', port: 8000, health_path: '/health' });
    s.tx(() => s.setDomains('x', ['x.test']));
    throw new Error('boom');
  }), /boom/);
  assert.equal(s.getApp('x'), undefined);
  assert.equal(s.domainOwner('x.test'), undefined);
  assert.equal(transaction(s.db, () => 7), 7);
  s.tx(() => s.insertApp({ name: 'y', port: 8000, health_path: '/health' }));
  assert.equal(s.getApp('y')?.name, 'y');
});
