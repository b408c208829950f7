// `berth run NAME -- CMD ARGS...`: a command in a one-off container of the live release. Its
// output streams to stdout as it comes (to stderr with --json, which prints the outcome
// alone), its exit status becomes berth's, and Ctrl-C stops it (the daemon removes the
// container when the connection drops).
import type { Command } from 'commander';
import { BerthError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import type { DaemonClient } from '../daemon/client.js';
import { parseBody, RunBody } from '../daemon/bodies.js';
import { progress } from './output.js';

interface Deps {
  client: (timeoutMs?: number) => DaemonClient;
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

interface RunResult { exit_code: number; ms: number; release: string; process: string; container: string }

/** What lost connection means for a command: the daemon's restart removed its container. */
const LOST_RUN = 'lost the daemon; the command was stopped and its container removed when the daemon started again';

export function runCommands(program: Command, { client, globals, action }: Deps): void {
  program.command('run <name> <cmd...>').description("run a command in a one-off container of the live release (its image, env, limits, network); after --")
    .option('--process <process>', "the process whose image and env it runs with", 'web')
    .option('--timeout <duration>', 'stop it after this long', '1h')
    .option('-i, --interactive', 'keep stdin open (not built yet)')
    .option('-t, --tty', 'a terminal (not built yet)')
    .addHelpText('after', '\nExamples:\n  berth run shop -- python manage.py migrate\n  berth run shop --process worker -- node scripts/report.js --since 1d')
    .action(action(async (name: string, cmd: string[], o: { process: string; timeout: string; interactive?: boolean; tty?: boolean }) => {
      if (o.interactive || o.tty) {
        throw new BerthError('invalid', 'an interactive terminal (berth run -it) is not built yet',
          `run one command at a time: berth run ${name} -- ${cmd.join(' ') || 'CMD'}`);
      }
      const body = { cmd, process: o.process, timeout: o.timeout };
      parseBody(RunBody, body);
      const json = !!globals().json;
      const sink = json ? process.stderr : process.stdout;
      process.on('SIGINT', () => {
        progress('stopping the command (its container is removed)');
        process.exit(130);
      });
      const r = await client().stream<RunResult>('POST', `/apps/${encodeURIComponent(v.appName(name))}/runs`, body, (e) => {
        if (e.type === 'output') sink.write(e.data as string);
      }, LOST_RUN);
      if (json) process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(r.exit_code);
    }));
}
