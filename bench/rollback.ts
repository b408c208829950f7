// Rollback time: seconds from issuing `berth rollback` to the old version answering every
// request through Caddy, for a warm rollback (the target release still runs) and a cold one
// (its container was retired: start from the kept image, health gate, switch).
//
// A poller sends requests back to back from several parallel workers until a streak of
// --streak consecutive answers (default 50, and at least 1 s after the command returned) all
// show the old version. The rollback has converged at the first answer of the old version that
// came after the last answer that was not.
//
//   npm run bench -- rollback [--runs 3] [--workers 4] [--streak 50]
import { Agent, request } from 'node:https';
import type { Platform } from '../test/helpers/platform.js';
import { sleep, SAMPLE, until } from '../test/helpers/platform.js';
import { log, main, median, numArg, round, timed, withPlatform } from './lib/common.js';

const runs = numArg('runs', 3);
const workers = numArg('workers', 4);
const streakWanted = numArg('streak', 50);
const host = 'a.localhost';
const LIMIT_MS = 90_000;

interface Answer { start: number; end: number; version: string }

/** Polls through Caddy until the streak is reached after `done` resolved; returns every answer. */
async function poll(p: Platform, want: string, done: Promise<unknown>): Promise<{ answers: Answer[]; errors: Record<string, number> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: workers, ca: p.caRoot, servername: host });
  const answers: Answer[] = [];
  const errors: Record<string, number> = {};
  let cmdDoneAt = Infinity;
  void done.then(() => { cmdDoneAt = performance.now(); }, () => { cmdDoneAt = performance.now(); });
  let streak = 0;
  const deadline = performance.now() + LIMIT_MS;
  const one = () => new Promise<void>((resolve) => {
    const start = performance.now();
    const req = request({ host: '127.0.0.1', port: p.httpsPort, path: '/', agent, servername: host, headers: { host }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        const version = res.statusCode === 200 ? body.trim().split(' ').pop() ?? '' : `status ${res.statusCode}`;
        answers.push({ start, end: performance.now(), version });
        streak = version === want ? streak + 1 : 0;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => { errors[e.message] = (errors[e.message] ?? 0) + 1; streak = 0; answers.push({ start, end: performance.now(), version: `error ${e.message}` }); resolve(); });
    req.end();
  });
  const finished = () => performance.now() > deadline || (streak >= streakWanted && performance.now() > cmdDoneAt + 1000);
  await Promise.all(Array.from({ length: workers }, async () => { while (!finished()) await one(); }));
  agent.destroy();
  if (streak < streakWanted) throw new Error(`no streak of ${streakWanted} answers of ${want} within ${LIMIT_MS} ms`);
  return { answers, errors };
}

const version = async (p: Platform) => (await p.get(host)).body.trim().split(' ').pop();

/** One rollback to `to` (a release id) whose body version is `want`; seconds until every answer is `want`. */
async function measure(p: Platform, to: string, want: string, kind: string) {
  const before = await version(p);
  const t0 = performance.now();
  const cmd = timed(p, ['rollback', 'a', '--to', to]);
  const { answers, errors } = await poll(p, want, cmd);
  const r = await cmd;
  const wrong = answers.filter((a) => a.version !== want);
  const lastWrongEnd = wrong.reduce((m, a) => (a.end > m ? a.end : m), t0);
  const rightEnds = answers.filter((a) => a.version === want).map((a) => a.end).sort((a, b) => a - b);
  const firstRight = rightEnds[0] ?? NaN;
  // Converged: the first answer of the old version after the last answer that was not.
  const converged = rightEnds.find((e) => e > lastWrongEnd) ?? NaN;
  const out = {
    kind, to, from_version: before, to_version: want,
    converged_s: round((converged - t0) / 1000, 3),
    last_other_answer_s: round((lastWrongEnd - t0) / 1000, 3),
    first_old_answer_s: round((firstRight - t0) / 1000, 3),
    command_s: round(r.ms / 1000, 3),
    steps: r.steps,
    answers: answers.length,
    failed: answers.filter((a) => a.version.startsWith('status') || a.version.startsWith('error')).length,
    errors,
  };
  log(`  ${kind} rollback to ${to} (${before} -> ${want}): converged after ${out.converged_s}s, command ${out.command_s}s, steps ${JSON.stringify(r.steps)}, ${answers.length} answers, errors ${JSON.stringify(errors)}`);
  return out;
}

interface Rel { release: string; state: string }

main('rollback', () => withPlatform(async (p) => {
  await p.ok(['apps', 'create', 'a', '--domain', host]);
  await p.ok(['config', 'set', 'a', 'VERSION=r1', '--no-deploy']);
  await p.ok(['deploy', 'a', '--image', SAMPLE]);
  await until(async () => (await version(p)) === 'r1', 10_000, 'a to serve r1');
  // One release per run plus one: warm runs alternate between the two newest; cold runs go to retired ones.
  const versionOf: Record<string, string> = { v1: 'r1' };
  for (let i = 2; i <= runs + 2; i++) {
    await p.ok(['config', 'set', 'a', `VERSION=r${i}`]);
    versionOf[`v${i}`] = `r${i}`;
  }
  const releases = async () => p.json<Rel[]>(['releases', 'a']);
  const warm = [];
  for (let i = 0; i < runs; i++) {
    await sleep(1000); // let the janitor stop what the previous run retired
    const rs = await releases();
    const target = rs.find((r) => r.state === 'warm');
    if (!target) throw new Error(`no warm release: ${JSON.stringify(rs)}`);
    warm.push(await measure(p, target.release, versionOf[target.release]!, 'warm'));
  }
  const cold = [];
  for (let i = 0; i < runs; i++) {
    await sleep(1000);
    const rs = await releases();
    const target = rs.find((r) => r.state === 'stopped');
    if (!target) throw new Error(`no stopped release: ${JSON.stringify(rs)}`);
    cold.push(await measure(p, target.release, versionOf[target.release]!, 'cold'));
  }
  return {
    warm_s: median(warm.map((w) => w.converged_s)),
    cold_s: median(cold.map((c) => c.converged_s)),
    warm_command_s: median(warm.map((w) => w.command_s)),
    cold_command_s: median(cold.map((c) => c.command_s)),
    runs, workers, streak: streakWanted,
    warm_runs: warm, cold_runs: cold,
  };
}));
