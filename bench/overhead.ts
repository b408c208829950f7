// Deploy overhead: the wall time of `berth deploy` minus the time the app itself needs from
// process start to listening (STARTUP_DELAY_MS, node's own start and its loading of the app's
// modules), as the sample app says it in its "listening on 8000" line (performance.now(): since
// its process began). berth_own_s also leaves out Docker's create+start of the container (the
// start step). Until 2026-12-02 the app's part was its delay plus node's bare start measured in
// another container (node -e), which left the app's loading of its modules to berth's part:
// that formula is still reported as berth_own_s_bare_node. Each deploy starts on a quiet
// platform (below); berth_own_s_back_to_back is the same figure for deploys one right after another.
//
// Each deploy's stderr is read as it arrives and every progress line is timestamped, which
// gives a timeline: CLI start and request until the plan arrives, each step, and the time from
// the last step to the command's exit. The daemon's own `ms` (from its log) is reported too.
//
//   npm run bench -- overhead [--runs 5] [--delay 2000]
import { spawn } from 'node:child_process';
import { demux } from '../src/runtime/docker/engine-api.js';
import { BIN, docker, SAMPLE, type Platform } from '../test/helpers/platform.js';
import { daemonLog, log, main, median, numArg, parseSteps, round, withPlatform } from './lib/common.js';

const runs = numArg('runs', 5);
const delay = numArg('delay', 2000);

interface Line { at: number; text: string }

/** Runs berth, timestamping each stderr line (ms since spawn). */
function traced(p: Platform, args: string[]): Promise<{ code: number; ms: number; lines: Line[]; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(BIN, args, { env: p.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Line[] = [];
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const at = performance.now() - t0;
      stderr += d;
      partial += d;
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ at, text });
    });
    child.on('close', (code) => resolve({ code: code ?? 1, ms: performance.now() - t0, lines, stdout, stderr }));
  });
}

/** Node's own start in the sample image: performance.now() when user code first runs (median of 3). */
async function nodeBootMs(p: Platform): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await docker.createContainer({
      name: `${p.instance}-bench-nodeboot-${i}`, Image: SAMPLE, Cmd: ['/usr/bin/node', '-e', 'console.log(performance.now())'],
      Labels: { 'berth.instance': p.instance }, HostConfig: { NetworkMode: 'none' },
    });
    try {
      await c.start();
      await c.wait();
      xs.push(Number(demux(await c.logs({ stdout: true, stderr: true }) as unknown as Buffer).trim()));
    } finally {
      await c.remove({ force: true }).catch(() => undefined);
    }
  }
  return median(xs);
}

/** The serving container's start-to-listening time, from Docker's own timestamps. */
async function appReady(p: Platform): Promise<{ ready_ms: number; app_says_ms: number; process_ms: number }> {
  const c = docker.getContainer(`${p.instance}-a-web`);
  const info = await c.inspect();
  const started = Date.parse(info.State.StartedAt);
  const startedFrac = Number(/\.(\d+)Z$/.exec(info.State.StartedAt)?.[1]?.padEnd(9, '0').slice(3, 9) ?? 0) / 1000; // µs beyond the ms
  const logs = demux(await c.logs({ stdout: true, stderr: true, timestamps: true }) as unknown as Buffer);
  const line = logs.split('\n').find((l) => / listening on \d+ after \d+ ms \(\d+ ms since the process began\)/.test(l));
  if (!line) throw new Error(`no "listening" line in the log of ${p.instance}-a-web:\n${logs}`);
  const ts = line.split(' ')[0]!;
  const listened = Date.parse(ts) + Number(/\.(\d+)Z$/.exec(ts)?.[1]?.padEnd(9, '0').slice(3, 9) ?? 0) / 1000;
  return { ready_ms: listened - (started + startedFrac), app_says_ms: Number(/after (\d+) ms/.exec(line)![1]),
    process_ms: Number(/\((\d+) ms since the process began\)/.exec(line)![1]) };
}

async function one(p: Platform, args: string[], label: string, boot: number) {
  const before = daemonLog(p, 'deploy succeeded').length;
  const r = await traced(p, args);
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}\n${r.stderr}`);
  const { steps, details } = parseSteps(r.stderr);
  const app = await appReady(p);
  const daemon = daemonLog(p, 'deploy succeeded').slice(before).at(-1);
  const planAt = r.lines.find((l) => /^deploy #\d+: release/.test(l.text))?.at ?? NaN;
  const lastStepAt = r.lines.filter((l) => /✓ \w+ \(\d+ ms\)/.test(l.text)).at(-1)?.at ?? NaN;
  const stepSum = Object.values(steps).reduce((a, b) => a + b, 0);
  const res = {
    wall_ms: Math.round(r.ms),
    daemon_ms: daemon?.ms as number | undefined,
    app_ready_ms: app.process_ms, // the app's own start: from its process's start to listening, as it says
    app_says_ms: app.app_says_ms, // from its file's start (after node's start and its modules)
    docker_ready_ms: round(app.ready_ms, 1), // StartedAt to the log line's timestamp: same thing, from Docker's clock (noisier)
    overhead_ms: Math.round(r.ms - app.process_ms),
    // berth's own part: the wall time without Docker's create+start of the container (the start
    // step) and without the app's own start: what a regression in berth shows in, whatever
    // Docker's speed on the day
    berth_own_ms: Math.round(r.ms - (steps.start ?? 0) - app.process_ms),
    berth_own_bare_node_ms: Math.round(r.ms - (steps.start ?? 0) - app.app_says_ms - boot), // the formula before (see the top)
    steps, health_detail: details.health,
    timeline_ms: {
      until_plan: Math.round(planAt), // CLI start, request, lock, release row
      steps_total: stepSum,
      between_steps: Math.round(lastStepAt - planAt - stepSum), // journaling and events between steps
      after_last_step: Math.round(r.ms - lastStepAt), // result, CLI exit
    },
  };
  log(`  ${label}: wall ${res.wall_ms} ms, berth's own ${res.berth_own_ms} ms, daemon ${res.daemon_ms} ms, app start-to-listening ${res.app_ready_ms} ms (app says ${res.app_says_ms}, Docker's timestamps ${res.docker_ready_ms}), overhead ${res.overhead_ms} ms; steps ${JSON.stringify(steps)}; timeline ${JSON.stringify(res.timeline_ms)}`);
  return res;
}

/** Waits until no container of app a is on its way out: at most the live release and the warm one run. */
async function quiet(p: Platform): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`, 'berth.app=a'] } });
    if (cs.filter((c) => c.State === 'running').length <= 2 && !cs.some((c) => c.State === 'removing' || c.State === 'restarting')) break;
    if (Date.now() > end) throw new Error(`app a still has ${cs.length} containers (${cs.map((c) => c.State).join(', ')}) after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 500)); // the engine's own clean-up after an exit
}

const medianOf = <T>(xs: T[], f: (x: T) => number | undefined) => {
  const v = xs.map(f).filter((x): x is number => typeof x === 'number' && !Number.isNaN(x));
  return v.length ? median(v) : null;
};

main('overhead', () => withPlatform(async (p) => {
  await p.ok(['apps', 'create', 'a', '--domain', 'a.localhost']);
  await p.ok(['config', 'set', 'a', `STARTUP_DELAY_MS=${delay}`, '--no-deploy']);
  const boot = await nodeBootMs(p);
  log(`node's own start in the sample image: ${round(boot, 1)} ms`);
  const first = await one(p, ['deploy', 'a', '--image', SAMPLE], 'first deploy', boot);
  // Each deploy on a quiet platform: after a deploy returns, the daemon stops the warm release it
  // retired (Docker's SIGTERM, exit and network teardown, ~150 ms of the engine's work on this
  // 2-core machine), and a deploy started at once shares the CPU and the engine with that.
  const rs: Awaited<ReturnType<typeof one>>[] = [];
  for (let i = 1; i <= runs; i++) {
    await quiet(p);
    rs.push(await one(p, ['deploy', 'a', '--image', SAMPLE], `deploy ${i} (quiet)`, boot));
  }
  // ... and as they were measured until 2026-12-02: one right after the other
  const backToBack: typeof rs = [];
  for (let i = 1; i <= runs; i++) backToBack.push(await one(p, ['deploy', 'a', '--image', SAMPLE], `deploy ${i} (back to back)`, boot));
  const stepNames = [...new Set(rs.flatMap((r) => Object.keys(r.steps)))];
  return {
    overhead_s: round(medianOf(rs, (r) => r.overhead_ms)! / 1000, 3),
    berth_own_s: round(medianOf(rs, (r) => r.berth_own_ms)! / 1000, 3),
    berth_own_s_back_to_back: round(medianOf(backToBack, (r) => r.berth_own_ms)! / 1000, 3),
    berth_own_s_bare_node: round(medianOf(rs, (r) => r.berth_own_bare_node_ms)! / 1000, 3),
    berth_own_ms_runs: rs.map((r) => r.berth_own_ms),
    berth_own_ms_runs_back_to_back: backToBack.map((r) => r.berth_own_ms),
    docker_start_ms_median: medianOf(rs, (r) => r.steps.start),
    runs,
    startup_delay_ms: delay,
    wall_s: round(medianOf(rs, (r) => r.wall_ms)! / 1000, 3),
    app_ready_s: round(medianOf(rs, (r) => r.app_ready_ms)! / 1000, 3),
    node_boot_ms: round(boot, 1),
    daemon_s: round((medianOf(rs, (r) => r.daemon_ms) ?? NaN) / 1000, 3),
    overhead_daemon_s: round((medianOf(rs, (r) => (r.daemon_ms === undefined ? undefined : r.daemon_ms - r.app_ready_ms)) ?? NaN) / 1000, 3),
    steps_ms_median: Object.fromEntries(stepNames.map((s) => [s, medianOf(rs, (r) => r.steps[s])])),
    timeline_ms_median: Object.fromEntries(Object.keys(rs[0]!.timeline_ms).map((k) => [k, medianOf(rs, (r) => (r.timeline_ms as Record<string, number>)[k])])),
    first_deploy: first,
    all: rs,
    all_back_to_back: backToBack,
  };
}));
