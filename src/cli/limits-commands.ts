// Resource limits on the command line: the options `apps create` and `apps limits` share, and
// the `apps limits` command itself (shows them, or changes them and rolls out a release).
import type { Command } from 'commander';
import { LimitsBody, parseBody } from '../daemon/bodies.js';
import type { DaemonClient } from '../daemon/client.js';
import * as v from '../lib/validate.js';
import { renderEvent } from './deploy-events.js';
import { out } from './output.js';

export interface LimitOptions { memory?: string; cpus?: string; pids?: string; capAdd?: string[] }

export const withLimitOptions = (c: Command): Command => c
  .option('--memory <size>', 'memory limit of each process, no swap on top (default 512m)')
  .option('--cpus <n>', 'CPUs each process may use at most (default 1)')
  .option('--pids <n>', 'processes and threads each process may have (default 256; stops a fork bomb)')
  .option('--cap-add <cap...>', 'a Linux capability beyond those a web app needs (e.g. NET_RAW)');

/** The body's limits from the options; undefined when none was given. */
export function limitsFrom(o: LimitOptions) {
  const l = { memory: o.memory, cpus: o.cpus, pids: o.pids, cap_add: o.capAdd };
  return Object.values(l).some((x) => x !== undefined) ? l : undefined;
}

interface Deps {
  client: (timeoutMs?: number) => DaemonClient;
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

type Shown = { memory_mb: number; cpus: number; pids: number; cap_add: string[] };
const describe = (l: Shown) => `memory ${l.memory_mb} MB, cpus ${l.cpus}, pids ${l.pids}, capabilities added: ${l.cap_add.join(', ') || 'none'}`;

export function limitsCommand(apps: Command, { client, globals, action }: Deps): void {
  withLimitOptions(apps.command('limits <name>').description('show or change the memory, CPU, process limits and capabilities of an app\'s processes'))
    .option('--cap-remove <cap...>', 'take back a capability added before')
    .option('--no-deploy', 'store only; the next deploy picks it up')
    .option('--lock-timeout <duration>', 'wait this long for a running deploy', '0s')
    .action(action(async (name: string, o: LimitOptions & { capRemove?: string[]; deploy: boolean; lockTimeout: string }) => {
      const app = v.appName(name);
      const given = limitsFrom(o);
      if (!given && !o.capRemove) {
        const r = await client().call<{ limits: Shown; live_limits: Shown | null }>('GET', `/apps/${encodeURIComponent(app)}`);
        return out(!!globals().json, { limits: r.limits, live_limits: r.live_limits },
          () => [`next release: ${describe(r.limits)}`, `live release: ${r.live_limits ? describe(r.live_limits) : 'none'}`].join('\n'));
      }
      const body = { ...given, cap_remove: o.capRemove, deploy: o.deploy, lock_timeout: o.lockTimeout };
      parseBody(LimitsBody, body);
      const r = await client().stream<{ limits: Shown; deploy: { release: string } | null }>('PATCH', `/apps/${encodeURIComponent(app)}/limits`,
        body, renderEvent);
      out(!!globals().json, r, () => `${describe(r.limits)}${r.deploy ? `; ${r.deploy.release} is live with them` : ' (no release rolled out)'}`);
    }));
}
