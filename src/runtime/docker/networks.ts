// Each app on a Docker network of its own: its processes, the proxy and the shared services it
// uses are on it, no other app is (nor a service it does not use: an app without a database
// cannot even reach PostgreSQL's port). Docker drops traffic between bridge networks, and its DNS answers only
// for containers that share one with the asker, so app A neither resolves nor reaches app B's
// containers. The platform network stays for the proxy, the services and berth's own tasks.
import { readFileSync } from 'node:fs';
import { BerthError } from '../../lib/errors.js';
import type { AppNetwork, IsolationReport } from '../types.js';
import type { ServiceName } from '../../state/settings.js';
import { type EngineApi, isNotFound } from './engine-api.js';
import { appNetworkBody, appNetworkName, LABEL, type Names, servingName } from './specs.js';
import { hostRoutes, pickSubnet } from './subnets.js';

/** The private range app networks are carved from, a /24 each (254 addresses, 256 apps). */
export const APP_SUBNET_POOL = '10.213.0.0/16';
const APP_SUBNET_BITS = 24;
const MEMBER_ROLES = new Set(['proxy', 'service']);
/** A Redis of one app's own (`apps create --redis dedicated`) joins that app's network only. */
const DEDICATED_TO = 'berth.redis-for';

type Labelled = { Labels: Record<string, string> };
/** A platform container that joins app networks (the proxy, the services), not an app's own. */
const isMember = (c: Labelled) => MEMBER_ROLES.has(c.Labels[LABEL.role] ?? '');
/** Whether it belongs on this app's network: the proxy always, an app's own Redis on its app's
 *  only, a shared service where the app uses it. */
function memberFor(c: Labelled, n: AppNetwork): boolean {
  if (!isMember(c)) return false;
  if (c.Labels[LABEL.role] === 'proxy') return true;
  const own = c.Labels[DEDICATED_TO];
  return own ? own === n.app : n.services.includes(c.Labels[LABEL.service] as ServiceName);
}

interface ListedNetwork { Id: string; Name: string; Labels?: Record<string, string>; IPAM?: { Config?: { Subnet?: string }[] } }
interface ListedContainer { Id: string; Names: string[]; Labels: Record<string, string>; NetworkSettings?: { Networks?: Record<string, unknown> } }
interface InspectedNetwork { Id: string; Containers?: Record<string, unknown> }

export class DockerNetworks {
  constructor(private readonly api: EngineApi, private readonly n: Names, private readonly routes = () => readFileSync('/proc/net/route', 'utf8')) {}

  private listNetworks(): Promise<ListedNetwork[]> {
    return this.api.json<ListedNetwork[]>('GET', '/networks', 'list networks');
  }

  private ownContainers(): Promise<ListedContainer[]> {
    return this.api.json<ListedContainer[]>('GET', '/containers/json', 'list containers',
      { query: { all: true, filters: JSON.stringify({ label: [`${LABEL.instance}=${this.n.instance}`] }) } });
  }

  private async inspect(name: string): Promise<InspectedNetwork | null> {
    return this.api.json<InspectedNetwork>('GET', `/networks/${encodeURIComponent(name)}`, `inspect network ${name}`)
      .catch((e) => { if (isNotFound(e)) return null; throw e; });
  }

  private connect(net: string, container: string): Promise<unknown> {
    return this.api.buffer('POST', `/networks/${encodeURIComponent(net)}/connect`, `attach ${container} to ${net}`, { body: { Container: container } })
      .catch((e) => { if (!/already exists|is already attached/i.test((e as Error).message)) throw e; });
  }

  private disconnect(net: string, container: string): Promise<unknown> {
    return this.api.buffer('POST', `/networks/${encodeURIComponent(net)}/disconnect`, `detach ${container} from ${net}`,
      { body: { Container: container, Force: true } })
      .catch((e) => { if (!isNotFound(e) && !/is not connected/i.test((e as Error).message)) throw e; });
  }

  /** One network created at a time by this process (inPool). */
  private creating: Promise<void> = Promise.resolve();

  private async create(app: string): Promise<void> {
    const v = await this.api.version();
    await this.inPool(appNetworkName(this.n, app), `the network of ${app}`, (name, subnet) => appNetworkBody(this.n, name, app, subnet, v));
  }

  /** An internal network (no way out, no app on it) for a scratch server of a point-in-time
   *  restore and the task that reads it; removed with removeScratch. */
  async createScratch(name: string): Promise<void> {
    await this.inPool(name, `the scratch network ${name}`, (n, subnet) => ({
      Name: n, Driver: 'bridge', Internal: true, IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
      Labels: { [LABEL.instance]: this.n.instance, 'berth.scratch': 'pitr' },
    }));
  }

  async removeScratch(name: string): Promise<void> {
    await this.api.buffer('DELETE', `/networks/${name}`, `remove network ${name}`).catch((e) => { if (!isNotFound(e)) throw e; });
  }

  /** Creates a network in the first free subnet of the pool, one at a time in this process (apps
   *  created in parallel would otherwise all pick the same one); a subnet taken meanwhile (another
   *  platform on the same engine) is skipped and the next one tried. */
  private async inPool(name: string, what: string, body: (name: string, subnet: string) => object): Promise<void> {
    const before = this.creating;
    let done!: () => void;
    this.creating = new Promise<void>((r) => { done = r; });
    await before;
    try {
      await this.createNow(name, what, body);
    } finally {
      done(); // the next one goes, whatever became of this one (its caller has the error)
    }
  }

  private async createNow(name: string, what: string, body: (name: string, subnet: string) => object): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = (await this.listNetworks()).flatMap((x) => (x.IPAM?.Config ?? []).map((c) => c.Subnet ?? '')).filter((s) => s.includes('.'));
      const subnet = pickSubnet(APP_SUBNET_POOL, APP_SUBNET_BITS, [...taken, ...hostRoutes(this.routes())]);
      if (!subnet) {
        throw new BerthError('unavailable', `no free /${APP_SUBNET_BITS} left in ${APP_SUBNET_POOL} for ${what}`,
          'remove unused Docker networks (docker network ls), or apps you no longer need');
      }
      try {
        await this.api.json('POST', '/networks/create', `create network ${name}`, { body: body(name, subnet) });
        return;
      } catch (e) {
        const msg = (e as Error).message;
        if (/already exists/i.test(msg)) return; // created meanwhile by another call
        if (!/overlap/i.test(msg)) throw e;
      }
    }
    throw new BerthError('unavailable', `could not create ${what}: every subnet tried was taken meanwhile`, 'try again');
  }

  /** The app's own network, created when missing, with the proxy and the shared services it uses
   *  on it (one it no longer uses leaves at the reconcile: isolate). */
  async ensureApp(n: AppNetwork): Promise<string> {
    const name = appNetworkName(this.n, n.app);
    // both at once: every release's start waits for this (Docker is slow at networks with 30+ bridges)
    const [net, own] = await Promise.all([this.ensureExists(n.app), this.ownContainers()]);
    const on = new Set(Object.keys(net?.Containers ?? {}));
    const missing = own.filter((c) => memberFor(c, n) && !on.has(c.Id));
    await Promise.all(missing.map((c) => this.connect(name, c.Id)));
    return name;
  }

  private async ensureExists(app: string): Promise<InspectedNetwork | null> {
    const name = appNetworkName(this.n, app);
    const net = await this.inspect(name);
    if (net) return net;
    await this.create(app);
    return this.inspect(name);
  }

  /** Attaches a platform container to the networks of these apps (the proxy: of every app), so
   *  that a recreated one serves them at once rather than at the next reconcile. */
  async attachToApps(containerId: string, apps: readonly string[] | 'every'): Promise<void> {
    for (const net of await this.listNetworks()) {
      const app = net.Labels?.[LABEL.instance] === this.n.instance ? net.Labels[LABEL.app] : undefined;
      if (app && (apps === 'every' || apps.includes(app))) await this.connect(net.Name, containerId);
    }
  }

  /** Attaches one app's own Redis to that app's network (and no other). */
  async attachTo(app: string, containerId: string): Promise<void> {
    await this.ensureExists(app);
    await this.connect(appNetworkName(this.n, app), containerId);
  }

  async isolate(apps: AppNetwork[]): Promise<IsolationReport> {
    const report: IsolationReport = { created: [], stranded: [], removed: [] };
    const wanted = new Set(apps.map((a) => a.app));
    const own = (await this.listNetworks()).filter((x) => x.Labels?.[LABEL.instance] === this.n.instance && x.Labels[LABEL.app]);
    for (const { app } of apps) {
      if (!own.some((x) => x.Labels![LABEL.app] === app)) {
        await this.create(app);
        report.created.push(app);
      }
    }
    const containers = await this.ownContainers();
    const nets = (c: ListedContainer) => c.NetworkSettings?.Networks ?? {};
    // members first: an app's new release must find the proxy and the services on its network
    for (const c of containers.filter(isMember)) {
      for (const a of apps) {
        const net = appNetworkName(this.n, a.app);
        if (memberFor(c, a) && !nets(c)[net]) await this.connect(net, c.Id);
        // a service the app does not use (or another app's own Redis) on its network: it leaves it
        if (!memberFor(c, a) && nets(c)[net]) await this.disconnect(net, c.Id);
      }
    }
    // A serving container still on the platform network is not moved in place: the proxy's pooled
    // connections to its old address would hang (measured: requests stalled 10 s). The caller
    // redeploys it, and the new release starts on its app's network. Old releases retire as usual.
    for (const c of containers.filter((x) => x.Labels[LABEL.role] === 'app' && wanted.has(x.Labels[LABEL.app] ?? ''))) {
      const app = c.Labels[LABEL.app]!;
      const serving = (c.Names[0] ?? '').replace(/^\//, '') === servingName(this.n, app, c.Labels[LABEL.process] ?? 'web');
      if (serving && nets(c)[this.n.network] && !report.stranded.includes(app)) report.stranded.push(app);
    }
    for (const x of own.filter((o) => !wanted.has(o.Labels![LABEL.app]!))) {
      // an app created since the caller listed apps may have its first container on it already:
      // only a network that holds nothing but the proxy and the services goes
      const members = new Set(containers.filter(isMember).map((c) => c.Id));
      if (await this.remove(x.Name, members)) report.removed.push(x.Labels![LABEL.app]!);
    }
    return report;
  }

  /** Removes an app's network once its containers are gone: the proxy and the services leave it
   *  first. With `onlyMembers`, a network that holds any other container is kept. True if removed. */
  async remove(name: string, onlyMembers?: Set<string>): Promise<boolean> {
    // A member may join between the disconnects and the delete (a reconcile connecting the proxy
    // to every app's network, seen once in CI: "has active endpoints"): look again and retry. The
    // engine may also hold a just-removed container's endpoint a moment longer (seen in CI: three
    // immediate retries, all refused): wait a little more each time.
    for (let attempt = 1; ; attempt++) {
      const net = await this.inspect(name);
      if (!net) return false;
      if (onlyMembers && Object.keys(net.Containers ?? {}).some((id) => !onlyMembers.has(id))) return false;
      for (const id of Object.keys(net.Containers ?? {})) await this.disconnect(name, id);
      try {
        await this.api.buffer('DELETE', `/networks/${net.Id}`, `remove network ${name}`);
        return true;
      } catch (e) {
        if (isNotFound(e)) return true;
        if (attempt >= 8 || !/active endpoints/.test((e as Error).message)) throw e;
      }
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}
