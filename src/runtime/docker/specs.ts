// Pure builders of Docker Engine API bodies: every container berth creates is described here,
// so tests can assert the exact request without a daemon.
import { BASE_CAPS, DEFAULT_LIMITS } from '../../lib/limits.js';
import type { AttachOptions, ProcessSpec } from '../types.js';
import { versionAtLeast } from './engine-api.js';

export const LABEL = {
  instance: 'berth.instance',
  app: 'berth.app',
  release: 'berth.release',
  process: 'berth.process',
  replica: 'berth.replica',
  role: 'berth.role',
  /** Which shared service a service container is (a moved object store's second one is s3 too). */
  service: 'berth.service',
  serves: 'berth.serves',
  /** A one-off's key (a cron run's id): how a daemon finds it again. */
  key: 'berth.key',
} as const;

/** What a container is to berth: a release's process, a release command, a `berth run`, a cron run. */
export type Role = 'app' | 'one-off' | 'run' | 'cron';

export interface Names { instance: string; network: string }

export const namesFor = (instance: string): Names => ({ instance, network: instance });

/** Each app's own network (networks.ts); `network` above is the platform's, for the proxy and the services. */
export const appNetworkName = (n: Names, app: string) => `${n.instance}-app-${app}`;

/** The name the proxy resolves for one copy of a serving process: the first copy's is the
 *  process's own name, copy N's ends in `_N` (an underscore: no process name has one, so copy 2 of
 *  `web` never meets a process called `web-2`; Docker's DNS and Caddy's resolver take it, measured). */
export function servingName(n: Names, app: string, process: string, replica = 1): string {
  return `${n.instance}-${app}-${process}${replica > 1 ? `_${replica}` : ''}`;
}

export function parkedName(n: Names, app: string, process: string, release: string): string {
  return `${n.instance}-${app}-${process}-${release}`;
}

/** A release's unit: the parked name for its first copy (the web process's only one), a
 *  suffix for the others (worker-v3, worker-v3-2). */
export function unitName(n: Names, app: string, process: string, release: string, replica = 1): string {
  return `${parkedName(n, app, process, release)}${replica > 1 ? `-${replica}` : ''}`;
}

export function oneOffName(n: Names, app: string, release: string, suffix: string): string {
  return `${n.instance}-${app}-run-${release}-${suffix}`;
}

/** A cron run's container: its job and its run's id (the row in cron_runs). */
export function cronRunName(n: Names, app: string, key: string): string {
  return `${n.instance}-${app}-cron-${key}`;
}

/** Body of POST /containers/create for a release process, on its app's own network. */
export function processContainer(n: Names, spec: ProcessSpec,
  opts: { oneOff?: boolean | { role: Role; key: string }; cmd?: string[]; volumesDir?: string; attach?: AttachOptions } = {}) {
  const network = appNetworkName(n, spec.app);
  const limits = spec.limits ?? DEFAULT_LIMITS;
  const env = { ...spec.env, PORT: String(spec.port) };
  const oneOff = opts.oneOff === true ? { role: 'one-off' as Role, key: null } : opts.oneOff || null;
  return {
    Image: spec.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...(opts.cmd ?? spec.cmd ? { Cmd: opts.cmd ?? spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    // `berth run -i/-t`: stdin kept open until the caller closes it, a terminal when asked
    ...(opts.attach ? {
      Tty: opts.attach.tty, OpenStdin: opts.attach.stdin, StdinOnce: opts.attach.stdin,
      AttachStdin: opts.attach.stdin, AttachStdout: true, AttachStderr: true,
    } : {}),
    Labels: {
      [LABEL.instance]: n.instance,
      [LABEL.app]: spec.app,
      [LABEL.release]: spec.release,
      [LABEL.process]: oneOff?.role === 'one-off' ? 'run' : spec.process,
      ...(oneOff ? {} : { [LABEL.replica]: String(spec.replica ?? 1) }),
      [LABEL.role]: oneOff?.role ?? 'app',
      ...(oneOff?.key ? { [LABEL.key]: oneOff.key } : {}),
      ...(spec.serves && !oneOff ? { [LABEL.serves]: '1' } : {}),
    },
    HostConfig: {
      NetworkMode: network,
      ...(spec.volumes?.length ? { Binds: volumeBinds(spec, opts.volumesDir) } : {}),
      // A release restarts on failure only once it serves (see activate): before that, a
      // crash must show as a crash, not as a container that keeps restarting.
      RestartPolicy: { Name: 'no' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Init: true,
      // A starting release boots beside the serving one on a small machine: it gets a quarter of
      // the CPU weight until it serves (activate raises it), so live requests keep their latency.
      CpuShares: STARTING_CPU_SHARES,
      // One app's leak or fork bomb stops at its own limits, not at the server's: memory without
      // swap on top, a share of the CPUs, a count of processes and threads.
      Memory: limits.memory_mb * MB, MemorySwap: limits.memory_mb * MB, NanoCpus: Math.round(limits.cpus * 1e9), PidsLimit: limits.pids,
      // no setuid escalation inside, and only the capabilities a web app needs (lib/limits.ts)
      SecurityOpt: ['no-new-privileges:true'], CapDrop: ['ALL'], CapAdd: [...BASE_CAPS, ...limits.cap_add],
    },
    NetworkingConfig: { EndpointsConfig: { [network]: {} } },
  };
}

const MB = 1024 * 1024;

/** Where an app's named volume lives on the host: `<data root>/volumes/APP/NAME`. */
export const volumeDir = (volumesDir: string, app: string, volume: string) => `${volumesDir}/${app}/${volume}`;

function volumeBinds(spec: ProcessSpec, volumesDir: string | undefined): string[] {
  if (!volumesDir) throw new Error('volumes need the data root\'s volumes directory');
  return spec.volumes!.map((m) => `${volumeDir(volumesDir, spec.app, m.volume)}:${m.path}${m.read_only ? ':ro' : ''}`);
}

export const SERVING_RESTART_POLICY = { Name: 'unless-stopped' } as const;
export const STARTING_CPU_SHARES = 256;
export const SERVING_CPU_SHARES = 1024;

/** Label filter for the containers of this instance (optionally one app). */
export function ownedFilter(n: Names, app?: string): { label: string[] } {
  return { label: [`${LABEL.instance}=${n.instance}`, ...(app ? [`${LABEL.app}=${app}`] : [])] };
}

/** Body of POST /networks/create for the instance's network, in the negotiated API version.
 *  CheckDuplicate: before API 1.44 (Docker 25) an engine creates a second network of the same
 *  name unless asked not to; from 1.44 on a duplicate name always fails and the field is gone
 *  from the reference (deprecated in 1.44 and 1.45, absent from 1.46 on), so it is not sent. */
export function networkCreateBody(n: Names, apiVersion: string) {
  return {
    Name: n.network, Driver: 'bridge', ...(versionAtLeast(apiVersion, '1.44') ? {} : { CheckDuplicate: true }),
    Labels: { [LABEL.instance]: n.instance },
  };
}

/** Body of POST /networks/create for an app's own network: a bridge in a subnet berth picked
 *  (subnets.ts), labelled with its app so that the reconcile finds it. */
export function appNetworkBody(n: Names, name: string, app: string, subnet: string, apiVersion: string) {
  return {
    Name: name, Driver: 'bridge', ...(versionAtLeast(apiVersion, '1.44') ? {} : { CheckDuplicate: true }),
    IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
    Labels: { [LABEL.instance]: n.instance, [LABEL.app]: app },
  };
}

/** A stopped container's exit code from the container list's Status text ("Exited (137) 5 minutes ago"),
 *  the same in every engine from 20.10 to 29; -1 when it does not say. */
export function exitCodeFromStatus(status: string): number {
  const m = /^Exited \((-?\d+)\)/.exec(status);
  return m ? Number(m[1]) : -1;
}
