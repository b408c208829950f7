// `berth cron NAME [JOB]`: an app's cron jobs with their next and last run; a job's recent runs
// with the end of their output (--history, the default with a JOB); a run now (--run-now).
import type { Command } from 'commander';
import * as v from '../lib/validate.js';
import type { DaemonClient } from '../daemon/client.js';
import { CronJobName, parseBody } from '../daemon/bodies.js';
import { out, table } from './output.js';

interface Deps {
  client: (timeoutMs?: number) => DaemonClient;
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

interface Run {
  id: number; trigger: string; scheduled_at: string; started_at: string | null; finished_at: string | null; state: string; exit_code: number | null;
  duration_ms: number | null; log_tail: string | null; release: string;
}
interface Job {
  job: string; schedule: string; timezone: string; command: string[]; next_run: string | null; running: boolean;
  last_run: Pick<Run, 'state' | 'exit_code' | 'duration_ms' | 'scheduled_at'> | null;
}

const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)}s`);
const lastOf = (j: Job) => (j.running ? 'running now' : j.last_run
  ? `${j.last_run.state}${j.last_run.exit_code !== null ? ` exit ${j.last_run.exit_code}` : ''} ${secs(j.last_run.duration_ms)}`
    + ` at ${j.last_run.scheduled_at}` : '-');

export function cronCommands(program: Command, { client, globals, action }: Deps): void {
  program.command('cron <name> [job]').description("an app's cron jobs (next and last run); with JOB its recent runs and their output")
    .option('--history', "the job's recent runs, with the last lines of their output (the default with a JOB)")
    .option('--limit <n>', 'how many runs to show', '10')
    .option('--run-now', 'run the job now (skipped while a run of it is going on)')
    .action(action(async (name: string, job: string | undefined, o: { history?: boolean; limit: string; runNow?: boolean }) => {
      const app = encodeURIComponent(v.appName(name));
      const json = !!globals().json;
      if (!job) {
        const r = await client().call<{ jobs: Job[] }>('GET', `/apps/${app}/cron`);
        out(json, r, () => table(r.jobs.map((j) => ({ ...j, command: j.command.join(' '), last: lastOf(j) })),
          ['job', 'schedule', 'timezone', 'next_run', 'last', 'command']));
        return;
      }
      parseBody(CronJobName, job, 'job');
      if (o.runNow) {
        const r = await client().call<Run>('POST', `/apps/${app}/cron/${encodeURIComponent(job)}/runs`, {});
        out(json, r, () => (r.state === 'running'
          ? `started run #${r.id} of ${job}; see it with: berth cron ${name} ${job}`
          : `skipped: a run of ${job} is going on (run #${r.id}); nothing was started`));
        return;
      }
      const runs = await client().call<Run[]>('GET', `/apps/${app}/cron/${encodeURIComponent(job)}/runs?limit=${Number(o.limit) || 10}`);
      out(json, runs, () => (runs.length ? runs.map((r) => [
        `#${r.id} ${r.state}${r.exit_code !== null ? ` exit ${r.exit_code}` : ''}  scheduled ${r.scheduled_at} (${r.trigger}),`
          + ` ${secs(r.duration_ms)}, ${r.release}`,
        ...(r.log_tail ? r.log_tail.split('\n').map((l) => `  | ${l}`) : []),
      ].join('\n')).join('\n') : `${job} has not run yet`));
    }));
}
