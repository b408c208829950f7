// A Towlion-shaped app (seed 002) deployed from the docker-compose.yml its repository holds, on
// the real Docker Engine, BuildKit (or the engine's builder), Caddy and Redis: `berth deploy uku`
// in its directory builds the backend once for web and the worker, the frontend from its own
// context, runs the migration before traffic moves, routes / to the frontend and /api/* to the
// backend, and the worker takes jobs off the app's Redis queue. Redeployed and rolled back, every
// process comes back with its release; a failing migration, a failing build and a frontend that
// cannot start each leave the release before serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { copyFixtureApp, fixtureApp } from '../helpers/fixture-apps.js';

const p = new Platform();
const src = copyFixtureApp('towlion');
const HOST = 'uku.localhost';
const env = { BASE_IMAGE: SAMPLE };

const deployHere = (extra: string[] = []) => p.berth(['deploy', 'uku', ...extra], { cwd: src, env, timeoutMs: 300_000 });
const body = async (path: string) => (await p.get(HOST, path)).body;
const hello = async () => JSON.parse(await body('/api/hello')) as { backend: string; migrated: string | null };
async function processes(): Promise<string[]> {
  const cs = await docker.listContainers({ filters: { label: [`berth.instance=${p.instance}`, 'berth.app=uku', 'berth.role=app'] } });
  return cs.map((c) => `${c.Labels['berth.release']} ${c.Labels['berth.process']}`).sort();
}

/** A job queued through the backend, done by a worker: which release's worker did it. */
async function jobDoneBy(): Promise<string> {
  const { id } = JSON.parse(await body('/api/jobs/new')) as { id: string };
  return until(async () => (JSON.parse(await body(`/api/jobs/${id}`)) as { result: string | null }).result ?? undefined, 20_000, `job ${id} to be done`);
}

before(async () => {
  await p.up(['--services', 'redis']);
  await ensureSample(p);
  await p.ok(['apps', 'create', 'uku', '--domain', HOST]);
});
after(async () => {
  await p.destroy();
  rmSync(src, { recursive: true, force: true });
});

test('berth deploy in the directory of a compose file runs every service of it, migrated before traffic moves', async () => {
  const r = await deployHere();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /services\.postgres: left out: berth's shared PostgreSQL replaces it/);
  assert.match(r.stderr, /deploying what .*docker-compose\.yml describes/);
  // web and the worker share one build: the same context and args build once
  assert.equal((r.stderr.match(/building berth\/uku:build-\w+ from \S+\/app /g) ?? []).length, 1, r.stderr);
  assert.equal((r.stderr.match(/building berth\/uku:build-\w+ from \S+\/frontend /g) ?? []).length, 1, r.stderr);
  assert.deepEqual(await processes(), ['v1 celery-worker', 'v1 frontend', 'v1 web']);
  assert.match(await body('/'), /<h1>frontend v1 \/api<\/h1>/, 'the frontend got its build arg');
  assert.match(await body('/some/page'), /<p>\/some\/page<\/p>/);
  assert.deepEqual(await hello(), { backend: 'v1', migrated: 'v1' });
  assert.equal(await jobDoneBy(), 'done by v1');
  assert.deepEqual(JSON.parse(await body('/api/visits')), { visits: 1, release: 'v1' });
  const releases = await p.json<{ release: string; processes: string }[]>(['releases', 'uku']);
  assert.equal(releases[0]!.processes, 'web, celery-worker, frontend');
});

test('a redeploy replaces every process and runs the migration again; a rollback brings each one back', async () => {
  writeFileSync(join(src, 'frontend', 'version.txt'), 'two'); // a change of the frontend's context: a new image
  const r = await deployHere();
  assert.equal(r.code, 0, r.stderr);
  await until(async () => ((await processes()).every((x) => x.startsWith('v2') || !x.includes('worker')) ? true : undefined), 30_000,
    'the v1 worker to stop');
  assert.match(await body('/'), /frontend v2/);
  assert.deepEqual(await hello(), { backend: 'v2', migrated: 'v2' });
  assert.equal(await jobDoneBy(), 'done by v2');
  assert.deepEqual(JSON.parse(await body('/api/visits')), { visits: 2, release: 'v2' }, 'the volume did not outlive its release');
  const back = await p.berth(['rollback', 'uku']);
  assert.equal(back.code, 0, back.stderr);
  // the v2 worker drains: a job it took off the queue before its SIGTERM is still its to finish
  await until(async () => (!(await processes()).includes('v2 celery-worker') ? true : undefined), 30_000, 'the v2 worker to stop');
  assert.match(await body('/'), /frontend v1/);
  assert.equal((await hello()).backend, 'v1');
  assert.equal(await jobDoneBy(), 'done by v1', 'the rollback did not bring back the v1 worker');
  assert.equal(JSON.parse(await body('/api/visits')).visits, 3, 'a rollback lost the volume\'s data');
  assert.ok(existsSync(join(p.root, 'volumes', 'uku', 'uploads', 'visits')), 'the volume is not under the data root');
});

test('a failing migration, a failing build and a frontend that cannot start each leave the live release serving', async () => {
  const liveBefore = async () => (await p.json<{ release: string }>(['apps', 'show', 'uku'])).release;
  const live = await liveBefore();
  await p.ok(['config', 'set', 'uku', 'MIGRATION_FAIL=1', '--no-deploy']);
  let r = await deployHere();
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /release command exited with 1/);
  assert.match(r.stderr, /Can't locate revision/, 'the migration\'s own output');
  await p.ok(['config', 'unset', 'uku', 'MIGRATION_FAIL', '--no-deploy']);

  writeFileSync(join(src, 'frontend', 'Dockerfile'), 'ARG BASE\nFROM ${BASE}\nRUN ["/usr/bin/node", "-e", "process.exit(4)"]\n');
  r = await deployHere();
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /build/i);
  cpSync(fixtureApp('towlion', 'frontend', 'Dockerfile'), join(src, 'frontend', 'Dockerfile'));

  await p.ok(['config', 'set', 'uku', 'FRONTEND_BROKEN=1', '--no-deploy']);
  r = await deployHere();
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /exited with code 1 before it became healthy/);
  assert.match(r.stderr, /Cannot find module 'next'/);
  await p.ok(['config', 'unset', 'uku', 'FRONTEND_BROKEN', '--no-deploy']);

  assert.equal(await liveBefore(), live);
  assert.match(await body('/'), new RegExp(`frontend ${live}`));
  assert.equal((await hello()).backend, live);
});
