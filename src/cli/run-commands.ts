// `berth run NAME -- CMD ARGS...`: a command in a one-off container of the live release. Its
// output streams to stdout as it comes (to stderr with --json, which prints the outcome
// alone), its exit status becomes berth's, and Ctrl-C stops it (the daemon removes the
// container when the connection drops). With -i and/or -t it talks over one upgraded
// connection instead (terminal.ts): stdin, a terminal and its size.
import type { Command } from 'commander';
import { BerthError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import type { DaemonClient } from '../daemon/client.js';
import { AttachedRunBody, parseBody, RunBody } from '../daemon/bodies.js';
import { progress } from './output.js';
import { talk } from './terminal.js';

interface Deps {
  client: (timeoutMs?: number) => DaemonClient;
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

interface RunResult { exit_code: number; ms: number; release: string; process: string; container: string }

/** What lost connection means for a command: the daemon's restart removed its container. */
const LOST_RUN = 'lost the daemon; the command was stopped and its container removed when the daemon started again';

const terminalSize = () => (process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : {});

export function runCommands(program: Command, { client, globals, action }: Deps): void {
  program.command('run <name> <cmd...>').description("run a command in a one-off container of the live release (its image, env, limits, network); after --")
    .option('--process <process>', "the process whose image and env it runs with", 'web')
    .option('--timeout <duration>', 'stop it after this long', '1h')
    .option('-i, --interactive', 'pass this terminal\'s stdin to the command (a pipe or the keyboard)')
    .option('-t, --tty', 'give the command a terminal (raw keys, colours, its size); with -i: a shell')
    .addHelpText('after', '\nExamples:\n  berth run shop -- python manage.py migrate\n  berth run shop --process worker -- node scripts/report.js --since 1d'
      + '\n  berth run -it shop -- sh\n  berth run -i shop -- psql < fix.sql')
    .action(action(async (name: string, cmd: string[], o: { process: string; timeout: string; interactive?: boolean; tty?: boolean }) => {
      const attach = { stdin: !!o.interactive, tty: !!o.tty };
      if (attach.tty && attach.stdin && !process.stdin.isTTY) {
        throw new BerthError('invalid', 'the input is not a terminal: -it needs one to type in',
          `pipe input without a terminal: berth run -i ${name} -- ${cmd.join(' ')}`);
      }
      const body = { cmd, process: o.process, timeout: o.timeout };
      parseBody(RunBody, body);
      const attached = { ...body, ...attach, ...terminalSize() };
      if (attach.stdin || attach.tty) parseBody(AttachedRunBody, attached);
      const json = !!globals().json;
      const sink = json ? process.stderr : process.stdout;
      process.on('SIGINT', () => {
        progress('stopping the command (its container is removed)');
        process.exit(130);
      });
      const path = `/apps/${encodeURIComponent(v.appName(name))}/runs`;
      const r = attach.stdin || attach.tty
        ? await talk<RunResult>(await client().upgrade(`${path}/attached`, attached), attach,
          { stdin: process.stdin, stdout: process.stdout, out: sink, err: process.stderr }, LOST_RUN)
        : await client().stream<RunResult>('POST', path, body, (e) => { if (e.type === 'output') sink.write(e.data as string); }, LOST_RUN);
      if (json) process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(r.exit_code);
    }));
}
