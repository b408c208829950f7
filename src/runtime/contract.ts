// The behaviour every Runtime must show, as one suite: run against the in-memory fake (unit
// tier, src/runtime/fake.test.ts) and against Docker Engine (test/integration/docker-runtime.test.ts).
// The engine's unit tests lean on these rules, so the fake may not drift from Docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../lib/errors.js';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OomEvent, ProcessSpec, RegistryAuth, Runtime, Unit } from './types.js';
import { framesOf } from '../lib/frames.js';

/** The site in a harness's siteImage: files under SITE_DIR, and symlinks (one inside, two out). */
export const SITE_DIR = '/srv/site';
export const SITE_FILES: Record<string, string> = { 'index.html': '<h1>site</h1>', 'assets/app.3f9a2c1b.js': 'app()', 'deep/er/x.txt': 'x' };
export const SITE_LINKS: Record<string, string> = { 'home.html': 'index.html', 'passwd': '/etc/passwd', 'up': '../../../etc' };

export interface RuntimeHarness {
  rt: Runtime;
  /** A fresh app name, no unit of it exists. */
  app: string;
  /** A local image whose process answers GET /health with 200 on $PORT. */
  image: string;
  /** Commands in that image: one printing "boom" and exiting 3; one running ms milliseconds. */
  exit3: string[];
  sleep: (ms: number) => string[];
  /** A command that prints "one", a second later "two", and exits 3. */
  talk: string[];
  /** A command that copies its stdin to its stdout until the stdin ends, then exits 0. */
  cat: string[];
  /** A command that takes memory until its limit (32 MB) kills it. */
  hog: string[];
  /** A command that prints "ready" once it ignores SIGTERM, then runs on. */
  stubborn: string[];
  /** A reference no registry gives (the pull finds no registry at all). */
  unpullable: string;
  /** A registry that answers on this host, and the credentials it takes (started when first asked). */
  registry(): Promise<RegistryAuth>;
  /** A local image holding SITE (below) under SITE_DIR, for exportDir. */
  siteImage: string;
  /** Makes the unit's process exit. */
  crash(u: Unit): Promise<void>;
  close(): Promise<void>;
}

async function until<T>(fn: () => Promise<T | null | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const servingReleases = async (h: RuntimeHarness) => (await h.rt.list(h.app)).filter((u) => u.serving).map((u) => u.release);

const healthy = (h: RuntimeHarness, u: Unit) =>
  until(async () => (await h.rt.probe(u, { path: '/health', port: 8000 })) === 200, 15_000, `${u.name} to answer its health check`);

export function runtimeContract(name: string, make: () => Promise<RuntimeHarness>): void {
  const spec = (h: RuntimeHarness, release: string): ProcessSpec => ({
    app: h.app, release, process: 'web', image: h.image, env: { VERSION: release }, port: 8000,
  });
  const servingV1 = async (h: RuntimeHarness) => {
    const v1 = await h.rt.start(spec(h, 'v1'));
    await h.rt.activate(v1);
    return v1;
  };

  test(`${name}: each app gets a network of its own when it starts; isolate keeps it while units are on it, then removes it`, async () => {
    const h = await make();
    try {
      const v1 = await servingV1(h);
      assert.deepEqual((await h.rt.isolate([{ app: h.app, services: [] }])).created, [], 'start made it');
      assert.ok(!(await h.rt.isolate([])).removed.includes(h.app), 'a network with a unit on it stays (an app created meanwhile)');
      assert.equal((await h.rt.list(h.app))[0]?.attached, true);
      await h.rt.remove(v1);
      assert.ok((await h.rt.isolate([])).removed.includes(h.app));
      assert.ok(!(await h.rt.isolate([])).removed.includes(h.app), 'idempotent');
      assert.deepEqual((await h.rt.isolate([{ app: h.app, services: [] }])).created, [h.app]);
      await h.rt.removeAppNetwork(h.app);
      await h.rt.removeAppNetwork(h.app); // gone already: not an error
    } finally {
      await h.close();
    }
  });

  test(`${name}: a started unit runs beside the serving one, answers probes, and takes the serving name only when activated`, async () => {
    const h = await make();
    try {
      const v1 = await h.rt.start(spec(h, 'v1'));
      assert.equal(v1.running, true);
      assert.equal(v1.attached, true);
      assert.equal(v1.serving, false);
      await healthy(h, v1);
      await h.rt.activate(v1);
      assert.equal(v1.serving, true);
      assert.equal(v1.name, h.rt.servingName(h.app, 'web'));
      const v2 = await h.rt.start(spec(h, 'v2'));
      await healthy(h, v2);
      await h.rt.activate(v2);
      const units = await h.rt.list(h.app);
      assert.deepEqual(await servingReleases(h), ['v2']);
      assert.equal(units.find((u) => u.release === 'v1')?.running, true, 'the release that served before keeps running (warm)');
      assert.equal((await h.rt.inspect(h.app, 'web', 'v1'))?.serving, false);
      assert.equal(await h.rt.inspect(h.app, 'web', 'v9'), null);
      assert.deepEqual(await h.rt.list(`${h.app}-other`), []);
    } finally {
      await h.close();
    }
  });


  test(`${name}: a worker's copies run beside the web process, each its own unit; activating one renames nothing`, async () => {
    const h = await make();
    try {
      await servingV1(h);
      const worker = (replica: number): ProcessSpec => ({ ...spec(h, 'v1'), process: 'worker', cmd: h.sleep(60_000), replica });
      const [w1, w2] = [await h.rt.start(worker(1)), await h.rt.start(worker(2))];
      assert.notEqual(w1.name, w2.name);
      assert.deepEqual([w1.replica, w2.replica, w1.serving], [1, 2, false]);
      await h.rt.activate(w2);
      const units = await h.rt.list(h.app);
      assert.deepEqual(units.map((u) => `${u.process}.${u.replica}:${u.running}`).sort(), ['web.1:true', 'worker.1:true', 'worker.2:true']);
      assert.equal(units.find((u) => u.id === w2.id)?.name, w2.name, 'a worker keeps its name');
      assert.deepEqual(await servingReleases(h), ['v1'], 'the web process still serves');
      assert.equal((await h.rt.inspect(h.app, 'worker', 'v1'))?.id, w1.id, 'inspect names the first copy');
    } finally {
      await h.close();
    }
  });
  test(`${name}: a switch that fails half way leaves the serving unit serving`, async () => {
    const h = await make();
    try {
      await servingV1(h);
      const v2 = await h.rt.start(spec(h, 'v2'));
      await assert.rejects(h.rt.activate(v2, async () => { throw new Error('between the halves'); }), /between the halves/);
      assert.deepEqual(await servingReleases(h), ['v1'], 'the previous release no longer holds the serving name');
      // the unit taken away mid-switch: the second half fails, and still nothing changes
      const v3 = await h.rt.start(spec(h, 'v3'));
      await assert.rejects(h.rt.activate(v3, async () => { await h.rt.remove(v3); }));
      assert.deepEqual(await servingReleases(h), ['v1']);
    } finally {
      await h.close();
    }
  });

  test(`${name}: a unit left under the name the serving one parks as (a switch interrupted before) gives way to the next switch`, async () => {
    const h = await make();
    try {
      const v1 = await servingV1(h);
      const stray = await h.rt.start(spec(h, 'v1')); // holds v1's own name, which v1 takes when it stops serving
      const v2 = await h.rt.start(spec(h, 'v2'));
      await h.rt.activate(v2);
      assert.deepEqual(await servingReleases(h), ['v2']);
      const units = await h.rt.list(h.app);
      assert.ok(!units.some((u) => u.id === stray.id), 'the unit left under the parked name is gone');
      assert.equal(units.find((u) => u.id === v1.id)?.running, true, 'the release that served before runs on, parked');
    } finally {
      await h.close();
    }
  });

  test(`${name}: a serving unit that crashed is replaced by the next activation`, async () => {
    const h = await make();
    try {
      const v1 = await servingV1(h);
      await h.crash(v1);
      await until(async () => !(await h.rt.inspect(h.app, 'web', 'v1'))?.running, 10_000, 'v1 to exit');
      const v2 = await h.rt.start(spec(h, 'v2'));
      await h.rt.activate(v2);
      assert.deepEqual(await servingReleases(h), ['v2']);
    } finally {
      await h.close();
    }
  });

  test(`${name}: a unit's output is kept: followLogs streams it until the unit exits, logs gives its last lines; it stays down until it serves`, async () => {
    const h = await make();
    try {
      const u = await h.rt.start({ ...spec(h, 'v1'), cmd: h.talk });
      let followed = '';
      const gaveUp = new AbortController();
      const timer = setTimeout(() => gaveUp.abort(), 15_000);
      await h.rt.followLogs(u, 100, (chunk) => { followed += chunk; }, gaveUp.signal).finally(() => clearTimeout(timer));
      assert.equal(followed, 'one\ntwo\n', 'every line, and the stream ends with the process');
      assert.equal(await h.rt.logs(u, 1), 'two\n');
      assert.equal(await h.rt.logs(u, 100), 'one\ntwo\n');
      const after = await until(() => h.rt.inspect(h.app, 'web', 'v1').then((x) => x && !x.running && x), 10_000, 'v1 to show as exited');
      assert.deepEqual([after.exitCode, after.restarting, after.oomKilled], [3, false, false], 'not restarted: a crash before it serves shows as a crash');
    } finally {
      await h.close();
    }
  });

  test(`${name}: following a unit that runs on ends when the signal aborts`, async () => {
    const h = await make();
    try {
      const u = await h.rt.start({ ...spec(h, 'v1'), cmd: h.sleep(60_000) });
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), 300);
      const t0 = Date.now();
      await h.rt.followLogs(u, 10, () => undefined, stop.signal).finally(() => clearTimeout(timer));
      assert.ok(Date.now() - t0 < 10_000, 'it returned once aborted');
      assert.equal((await h.rt.inspect(h.app, 'web', 'v1'))?.running, true, 'the unit itself runs on');
      await h.rt.remove(u);
    } finally {
      await h.close();
    }
  });

  test(`${name}: watchOom hears of a unit its memory limit killed, and the unit says so`, async () => {
    const h = await make();
    const watching = new AbortController();
    try {
      const heard: OomEvent[] = [];
      const watch = h.rt.watchOom((e) => heard.push(e), watching.signal);
      await new Promise((r) => setTimeout(r, 500)); // its subscription to the runtime's events is in place
      await h.rt.start({ ...spec(h, 'v1'), cmd: h.hog, limits: { memory_mb: 32, cpus: 1, pids: 64, cap_add: [] } });
      const e = await until(async () => heard[0], 20_000, 'the OOM event');
      assert.deepEqual([e.app, e.release, e.process, e.oneOff], [h.app, 'v1', 'web', false]);
      assert.ok(e.name, 'the container is named');
      const after = await until(() => h.rt.inspect(h.app, 'web', 'v1').then((x) => x && !x.running && x), 10_000, 'v1 to show as exited');
      assert.equal(after.oomKilled, true);
      watching.abort();
      await watch;
    } finally {
      watching.abort();
      await h.close();
    }
  });

  test(`${name}: stop gives a unit its grace period: one that ends on SIGTERM goes at once, one that ignores it is killed after it`, async () => {
    const h = await make();
    try {
      const polite = await h.rt.start({ ...spec(h, 'v1'), cmd: h.sleep(60_000) });
      const stubborn = await h.rt.start({ ...spec(h, 'v2'), cmd: h.stubborn });
      await until(async () => (await h.rt.logs(stubborn, 5)).includes('ready'), 10_000, 'v2 to ignore SIGTERM');
      let t0 = Date.now();
      await h.rt.stop(polite, 10_000);
      assert.ok(Date.now() - t0 < 5000, `v1 went on SIGTERM, not after its grace (${Date.now() - t0} ms)`);
      t0 = Date.now();
      await h.rt.stop(stubborn, 1000);
      assert.ok(Date.now() - t0 >= 900, `v2 had its grace (${Date.now() - t0} ms)`);
      const codes = async () => Object.fromEntries((await h.rt.list(h.app)).map((u) => [u.release, [u.running, u.exitCode]]));
      assert.deepEqual(await codes(), { v1: [false, 143], v2: [false, 137] }, 'v1 ended by SIGTERM, v2 killed');
    } finally {
      await h.close();
    }
  });

  test(`${name}: saveImage writes an image to a file only its owner reads; a missing image is not_found`, async () => {
    const h = await make();
    const dir = mkdtempSync(join(tmpdir(), 'berth-save-'));
    try {
      await h.rt.saveImage(h.image, join(dir, 'a.tar'));
      const st = statSync(join(dir, 'a.tar'));
      assert.ok(st.size > 0);
      assert.equal(st.mode & 0o777, 0o600);
      await assert.rejects(h.rt.saveImage('berth-none/missing:1', join(dir, 'b.tar')), (e: BerthError) => e.code === 'not_found');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await h.close();
    }
  });

  test(`${name}: one-off commands give their exit code and output, within their deadline, and can be cancelled`, async () => {
    const h = await make();
    try {
      assert.deepEqual(await h.rt.runOnce(spec(h, 'v1'), h.exit3, { timeoutMs: 30_000 }), { exitCode: 3, output: 'boom\n' });
      await assert.rejects(h.rt.runOnce(spec(h, 'v1'), h.sleep(20_000), { timeoutMs: 1000 }), (e: BerthError) => e.code === 'timeout');
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await assert.rejects(h.rt.runOnce(spec(h, 'v1'), h.sleep(20_000), { timeoutMs: 30_000, signal: ac.signal }), (e: BerthError) => e.code === 'aborted');
      assert.deepEqual(await h.rt.list(h.app), [], 'a one-off left a unit behind');
    } finally {
      await h.close();
    }
  });

  test(`${name}: a one-off nobody waits for any more (its daemon died) is stopped and removed by removeOneOffs`, async () => {
    const h = await make();
    try {
      let outcome = 'running';
      void h.rt.runOnce(spec(h, 'v1'), h.sleep(60_000), { timeoutMs: 120_000 })
        .then((r) => { outcome = `exit ${r.exitCode}`; }, (e: BerthError) => { outcome = `failed: ${e.code}`; });
      const removed = await until(async () => { const r = await h.rt.removeOneOffs(); return r.length ? r : null; }, 20_000, 'a one-off to remove');
      assert.equal(removed.length, 1);
      assert.match(removed[0]!, new RegExp(`-${h.app}-run-v1-`));
      assert.deepEqual(await h.rt.removeOneOffs(), []);
      assert.deepEqual(await h.rt.list(h.app), []);
      await new Promise((r) => setTimeout(r, 200));
      assert.notEqual(outcome, 'exit 0', 'a removed one-off reported success');
    } finally {
      await h.close();
    }
  });

  test(`${name}: a started one-off streams its output as it comes, gives its exit code, and is removed once waited for`, async () => {
    const h = await make();
    try {
      const ref = await h.rt.startOneOff(spec(h, 'v1'), h.talk, { kind: 'run', key: 'r1' });
      assert.equal(ref.running, true);
      const seen: string[] = [];
      let exited = false;
      let firstBeforeExit = false;
      const waited = h.rt.waitOneOff(ref, {
        timeoutMs: 30_000, onOutput: (s) => { seen.push(s); if (s.includes('one') && !exited) firstBeforeExit = true; },
      }).then((r) => { exited = true; return r; });
      const r = await waited;
      assert.equal(r.exitCode, 3);
      assert.ok(firstBeforeExit, 'the first line came only with the exit');
      assert.match(seen.join(''), /one\n[^]*two\n/);
      assert.match(r.output, /one\n[^]*two\n/);
      assert.deepEqual(await h.rt.listOneOffs('run'), []);
      assert.deepEqual(await h.rt.list(h.app), [], 'a one-off counts as a unit of the app');
    } finally {
      await h.close();
    }
  });

  test(`${name}: an attached one-off reads the caller's stdin and gives its output, in frames, or raw with a terminal`, async () => {
    const h = await make();
    try {
      for (const tty of [false, true]) {
        const a = await h.rt.startAttached(spec(h, 'v1'), h.cat, { kind: 'run', key: `a${tty}`, stdin: true, tty, rows: 30, cols: 100 });
        const out: Buffer[] = [];
        a.io.on('data', (d: Buffer) => out.push(d));
        const ended = new Promise((r) => a.io.once('end', r));
        a.io.write('hello\n');
        await until(async () => Buffer.concat(out).includes('hello'), 10_000, 'the echo');
        // a terminal passes ^D on as end of input; a pipe ends by closing its side
        if (tty) a.io.write('\x04'); else a.io.end();
        const r = await h.rt.waitOneOff(a.ref, { timeoutMs: 30_000 });
        await ended;
        assert.equal(r.exitCode, 0);
        const bytes = Buffer.concat(out);
        if (tty) assert.ok(bytes.includes('hello') && bytes[0] !== 1, `raw output: ${JSON.stringify(bytes.toString())}`);
        else assert.deepEqual(framesOf(bytes).map((f) => [f.stream, f.payload.toString()]), [[1, 'hello\n']]);
      }
      assert.deepEqual(await h.rt.listOneOffs('run'), []);
    } finally {
      await h.close();
    }
  });

  test(`${name}: a cron one-off outlives its waiter: listed by kind and key, left by removeOneOffs, waited for again`, async () => {
    const h = await make();
    try {
      const cron = await h.rt.startOneOff(spec(h, 'v1'), h.sleep(1500), { kind: 'cron', key: 'nightly-7' });
      const run = await h.rt.startOneOff(spec(h, 'v1'), h.sleep(60_000), { kind: 'run', key: 'x' });
      const listed = await h.rt.listOneOffs('cron');
      assert.deepEqual(listed.map((o) => [o.id, o.key, o.app, o.running]), [[cron.id, 'nightly-7', h.app, true]]);
      assert.deepEqual(await h.rt.removeOneOffs(), [run.name], 'removeOneOffs removes `berth run` one-offs, never cron runs');
      // the next daemon waits for it by what the listing says
      assert.equal((await h.rt.waitOneOff(listed[0]!, { timeoutMs: 30_000 })).exitCode, 0);
      assert.deepEqual(await h.rt.listOneOffs('cron'), []);
      // one that exited before anyone waited answers at once
      const quick = await h.rt.startOneOff(spec(h, 'v1'), h.exit3, { kind: 'cron', key: 'q' });
      await until(async () => (await h.rt.listOneOffs('cron')).some((o) => o.id === quick.id && !o.running), 15_000, 'the one-off to exit');
      const r = await h.rt.waitOneOff(quick, { timeoutMs: 30_000 });
      assert.deepEqual([r.exitCode, r.output], [3, 'boom\n']);
    } finally {
      await h.close();
    }
  });

  test(`${name}: a one-off past its deadline, or cancelled, is stopped and removed`, async () => {
    const h = await make();
    try {
      const slow = await h.rt.startOneOff(spec(h, 'v1'), h.sleep(60_000), { kind: 'cron', key: 's1' });
      await assert.rejects(h.rt.waitOneOff(slow, { timeoutMs: 1000 }), (e: BerthError) => e.code === 'timeout');
      const other = await h.rt.startOneOff(spec(h, 'v1'), h.sleep(60_000), { kind: 'run', key: 's2' });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 300);
      await assert.rejects(h.rt.waitOneOff(other, { timeoutMs: 30_000, signal: ac.signal }), (e: BerthError) => e.code === 'aborted');
      assert.deepEqual([...await h.rt.listOneOffs('cron'), ...await h.rt.listOneOffs('run')], []);
      await assert.rejects(h.rt.waitOneOff(slow, { timeoutMs: 1000 }), (e: BerthError) => e.code === 'not_found');
    } finally {
      await h.close();
    }
  });

  test(`${name}: stop and remove; removing twice is no error; images by reference and id; a pull with no registry says offline`, async () => {
    const h = await make();
    try {
      const v1 = await h.rt.start(spec(h, 'v1'));
      await h.rt.stop(v1, 1000);
      assert.equal((await h.rt.inspect(h.app, 'web', 'v1'))?.running, false);
      await h.rt.remove(v1);
      await h.rt.remove(v1);
      assert.equal(await h.rt.inspect(h.app, 'web', 'v1'), null);
      const info = await h.rt.ensureImage(h.image, undefined, () => undefined);
      assert.deepEqual(await h.rt.imageInfo(info.id), info);
      assert.equal(await h.rt.imageInfo(h.unpullable), null);
      const check = await h.rt.pullable(h.unpullable, () => undefined);
      assert.deepEqual(check.ok ? 'pulled' : check.reason, 'offline');
      await assert.rejects(h.rt.ensureImage(h.unpullable, undefined, () => undefined), (e: BerthError) => e.details?.reason === 'offline');
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(h.rt.ensureImage(h.unpullable, undefined, () => undefined, ac.signal), (e: BerthError) => e.code === 'aborted');
    } finally {
      await h.close();
    }
  });

  test(`${name}: a registry login is checked with the registry: the right password passes, a wrong one is bad input, `
    + 'a registry nobody answers at is unavailable', async () => {
    const h = await make();
    try {
      const auth = await h.registry();
      await h.rt.checkAuth(auth);
      await assert.rejects(h.rt.checkAuth({ ...auth, password: `${auth.password}-wrong` }),
        (e: BerthError) => e.code === 'invalid' && e.details?.reason === 'unauthorized' && e.message.startsWith(`${auth.serveraddress} refused the login`));
      await assert.rejects(h.rt.checkAuth({ ...auth, serveraddress: 'localhost:1' }),
        (e: BerthError) => e.code === 'unavailable' && e.details?.reason === 'offline' && /check its host name and port/.test(e.hint ?? ''));
    } finally {
      await h.close();
    }
  });

  test(`${name}: exportDir copies an image's directory, links inside kept and links out left out; a missing image or path is not_found`, async () => {
    const h = await make();
    const dest = mkdtempSync(join(tmpdir(), 'berth-export-'));
    try {
      const r = await h.rt.exportDir(h.siteImage, SITE_DIR, join(dest, 'v1'));
      assert.equal(r.files, Object.keys(SITE_FILES).length);
      assert.equal(r.bytes, Object.values(SITE_FILES).reduce((n, b) => n + Buffer.byteLength(b), 0));
      for (const [path, body] of Object.entries(SITE_FILES)) assert.equal(readFileSync(join(dest, 'v1', path), 'utf8'), body, path);
      assert.equal(readlinkSync(join(dest, 'v1', 'home.html')), 'index.html');
      for (const out of ['passwd', 'up']) {
        assert.equal(lstatSync(join(dest, 'v1', out), { throwIfNoEntry: false }), undefined, `${out} was kept`);
      }
      assert.deepEqual(r.skipped.map((x) => x.split(' ')[0]).sort(), ['passwd', 'up']);
      await assert.rejects(h.rt.exportDir(h.siteImage, '/srv/nope', join(dest, 'v2')), (e: BerthError) => e.code === 'not_found');
      await assert.rejects(h.rt.exportDir('berth-test/no-such-image:1', SITE_DIR, join(dest, 'v3')), (e: BerthError) => e.code === 'not_found');
    } finally {
      rmSync(dest, { recursive: true, force: true });
      await h.close();
    }
  });
}
