import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgNames } from '../../provisioning/model.js';
import { fakeCore } from '../testing.js';
import { finalDump, pgpassLine } from './purge.js';

test('the final dump gets the administrator\'s password in a password file, never in its env or command', async () => {
  const { ctx, rt } = fakeCore({ services: ['postgres'] });
  ctx.store.setService('postgres', 'container', ctx.cipher.encryptJSON({ mode: 'container', password: 'the-admin-secret' }));
  await rt.services.ensure({ service: 'postgres', adminPassword: 'the-admin-secret' });
  // the fake's task writes nothing: put the dump where pg_dump would
  rt.services.task = async (s, t) => {
    rt.services.tasks.push({ service: s, name: t.name, cmd: t.cmd, env: t.env ?? {}, secretFiles: t.secretFiles ?? {} });
    writeFileSync(join(ctx.paths.root, 'backups', 'shop', t.cmd.find((a) => a.startsWith('/out/'))!.slice(5)), 'PGDMP');
    return { exitCode: 0, output: '' };
  };
  const path = await finalDump(ctx, 'shop', { ...pgNames('shop'), logins: { a: 'x', b: null }, active: 'a' });
  assert.match(path, /backups\/shop\/final-.*\.dump$/);
  const task = rt.services.tasks[0]!;
  assert.ok(!JSON.stringify(task.env).includes('the-admin-secret'), `the password is in the env: ${JSON.stringify(task.env)}`);
  assert.ok(!task.cmd.join(' ').includes('the-admin-secret'), 'the password is on the command line');
  assert.equal(task.env.PGPASSFILE, '/run/secrets/berth/pgpass');
  assert.match(task.secretFiles.pgpass!, /:5432:app_shop:postgres:the-admin-secret\n$/);
});

test('a password file line escapes what would end a field', () => {
  assert.equal(pgpassLine({ host: 'h', port: 5432, db: 'd', user: 'u', password: 'a:b\\c' }), 'h:5432:d:u:a\\:b\\\\c\n');
});
