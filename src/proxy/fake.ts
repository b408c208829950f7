// An in-memory proxy for unit tests: routes by host to upstream:port (resolved like a real
// proxy would: 'localhost' reaches this machine, any other name fails), or through the app's
// routing table, redirects and headers (fake-serve.ts); counts config changes, and can be told
// to fail. Passes the same contract suite as Caddy (contract.ts).
import { BerthError } from '../lib/errors.js';
import { type Answer, serve } from './fake-serve.js';
import { idOf, type Proxy, type ProxyStatus, type RouteChange, type RouteInput, redirectIdOf, routeId } from './types.js';

export class FakeProxy implements Proxy {
  live = new Map<string, RouteInput>();
  persisted: RouteInput[] = [];
  changes = 0;
  /** The next config write fails with this error (once). */
  failNext: string | null = null;

  constructor(readonly desired: () => RouteInput[], readonly httpsPort = 443) {}

  private write(fn: () => void): void {
    if (this.failNext) {
      const msg = this.failNext;
      this.failNext = null;
      throw new BerthError('command_failed', `proxy refused the change: ${msg}`);
    }
    fn();
    this.changes++;
  }

  async ensureRoute(r: RouteInput): Promise<RouteChange> {
    const have = this.live.get(idOf(r));
    const change: RouteChange = !have ? 'created' : JSON.stringify(have) === JSON.stringify(r) ? 'unchanged' : 'updated';
    if (change !== 'unchanged') this.write(() => this.live.set(idOf(r), structuredClone(r)));
    this.persisted = [...this.desired().filter((x) => idOf(x) !== idOf(r)), r];
    return change;
  }

  async removeRoute(app: string, id = routeId(app)): Promise<RouteChange> {
    const had = this.live.has(id);
    if (had) this.write(() => this.live.delete(id));
    this.persisted = this.desired().filter((x) => idOf(x) !== id);
    return had ? 'removed' : 'unchanged';
  }

  async sync(): Promise<string[]> {
    const desired = this.desired();
    const fixed = desired.filter((r) => JSON.stringify(this.live.get(idOf(r))) !== JSON.stringify(r)).map((r) => r.app);
    const wanted = new Set(desired.map(idOf));
    fixed.push(...[...this.live.keys()].filter((id) => !wanted.has(id)));
    if (fixed.length) this.write(() => { this.live = new Map(desired.map((r) => [idOf(r), r])); });
    if (fixed.length) this.persisted = desired;
    return fixed;
  }

  persist(): void { this.persisted = this.desired(); }

  async status(): Promise<ProxyStatus> { return { ok: true, routes: this.live.size }; }

  /** A restart: the running routes become the persisted ones. */
  restart(): void { this.live = new Map(this.persisted.map((r) => [idOf(r), r])); }

  /** Where a request for host goes; 404 without a route, 503 when its upstream does not answer. */
  async request(host: string): Promise<{ status: number; body: string }> {
    const a = await this.fetch(host, '/');
    return { status: a.status, body: a.body };
  }

  /** The whole answer for host and uri (path and query), headers included. */
  fetch(host: string, uri: string): Promise<Answer> { return serve([...this.live.values()], host, uri, this.httpsPort); }

  /** The live route ids, as a real proxy lists them (an app's redirect route beside its own). */
  liveIds(): string[] {
    return [...this.live.values()].flatMap((r) => (r.redirects?.length ? [idOf(r), redirectIdOf(r)] : [idOf(r)]));
  }
}
