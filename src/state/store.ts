// Typed access to the state tables. Plain functions over one DB handle: no business rules here,
// just rows in and rows out; secrets arrive here already encrypted.
import { chmodSync } from 'node:fs';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import type { DB } from './db.js';
import { now, transaction } from './db.js';
import { Backups } from './backups.js';
import { CronRuns } from './cron-runs.js';

export type ReleaseState = 'pending' | 'live' | 'warm' | 'stopped' | 'failed' | 'pruned';
export type DeployState = 'running' | 'succeeded' | 'failed' | 'aborted';
export type DeployKind = 'deploy' | 'rollback' | 'config';

export interface AppRow { name: string; created_at: string; port: number; health_path: string; live_release: number | null; limits: string; formation: string }
export interface ReleaseRow {
  id: number; app: string; seq: number; image: string; image_id: string | null; digest: string | null;
  port: number; health_path: string; processes: string; env: string; state: ReleaseState; spec: string;
  created_at: string; actor: string; note: string | null; warm_until: string | null;
}
export interface DeployRow {
  id: number; app: string; kind: DeployKind; release_id: number | null; previous_release_id: number | null;
  state: DeployState; step: string | null; actor: string; started_at: string; finished_at: string | null; error: string | null;
}
export interface LockRow { app: string; deploy_id: number; actor: string; acquired_at: string; daemon_boot: string }
export interface AuditRow { id: number; at: string; actor: string; action: string; app: string | null; result: string; detail: string | null }

export class Store {
  /** The history of cron runs. */
  readonly cron: CronRuns;
  /** The backups made, and how each was verified. */
  readonly backups: Backups;
  constructor(readonly db: DB) {
    this.cron = new CronRuns(db);
    this.backups = new Backups(db);
  }

  // Prepared once, reused: the daemon runs the same few statements all day.
  private readonly statements = new Map<string, StatementSync>();
  private q(sql: string): StatementSync {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  private one<T>(sql: string, ...params: SQLInputValue[]): T | undefined { return this.q(sql).get(...params) as T | undefined; }
  private many<T>(sql: string, ...params: SQLInputValue[]): T[] { return this.q(sql).all(...params) as T[]; }

  tx<T>(fn: () => T): T { return transaction(this.db, fn); }

  /** A consistent copy of the whole state, taken online (VACUUM INTO: one read transaction), 0600. */
  copyTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
    chmodSync(file, 0o600);
  }

  // apps
  getApp(name: string): AppRow | undefined {
    return this.one<AppRow>('SELECT * FROM apps WHERE name = ?', name);
  }
  listApps(): AppRow[] { return this.many<AppRow>('SELECT * FROM apps ORDER BY name'); }
  insertApp(a: { name: string; port: number; health_path: string }): void {
    this.q('INSERT INTO apps(name, created_at, port, health_path) VALUES (?, ?, ?, ?)').run(a.name, now(), a.port, a.health_path);
  }
  updateAppDefaults(name: string, port: number, healthPath: string): void {
    this.q('UPDATE apps SET port = ?, health_path = ? WHERE name = ?').run(port, healthPath, name);
  }
  setLive(app: string, releaseId: number | null): void {
    this.q('UPDATE apps SET live_release = ? WHERE name = ?').run(releaseId, app);
  }
  deleteApp(name: string): void { this.q('DELETE FROM apps WHERE name = ?').run(name); }

  // domains
  domainsOf(app: string): string[] {
    return (this.many<{ domain: string }>('SELECT domain FROM domains WHERE app = ? ORDER BY position', app)).map((r) => r.domain);
  }
  domainOwner(domain: string): string | undefined {
    return (this.one<{ app: string }>('SELECT app FROM domains WHERE domain = ?', domain))?.app;
  }
  setDomains(app: string, domains: string[]): void {
    this.q('DELETE FROM domains WHERE app = ?').run(app);
    const ins = this.q('INSERT INTO domains(domain, app, position) VALUES (?, ?, ?)');
    domains.forEach((d, i) => ins.run(d, app, i));
  }

  // config (values encrypted by the caller)
  configOf(app: string): Record<string, string> {
    const rows = this.many<{ key: string; value: string }>('SELECT key, value FROM config WHERE app = ? ORDER BY key', app);
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }
  setConfig(app: string, key: string, encValue: string): void {
    this.q('INSERT INTO config(app, key, value) VALUES (?, ?, ?) ON CONFLICT(app, key) DO UPDATE SET value = excluded.value').run(app, key, encValue);
  }
  unsetConfig(app: string, key: string): boolean {
    return this.q('DELETE FROM config WHERE app = ? AND key = ?').run(app, key).changes > 0;
  }

  // releases
  insertRelease(r: Omit<ReleaseRow, 'id' | 'seq' | 'created_at' | 'warm_until' | 'state' | 'spec'> & { spec?: string }): ReleaseRow {
    const seq = (this.one<{ m: number | null }>('SELECT MAX(seq) AS m FROM releases WHERE app = ?', r.app)?.m ?? 0) + 1;
    const info = this.q(`INSERT INTO releases(app, seq, image, image_id, digest, port, health_path, processes, env, state, created_at, actor, note, spec)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`)
      .run(r.app, seq, r.image, r.image_id, r.digest, r.port, r.health_path, r.processes, r.env, now(), r.actor, r.note, r.spec ?? '{}');
    return this.getRelease(Number(info.lastInsertRowid))!;
  }
  getRelease(id: number): ReleaseRow | undefined {
    return this.one<ReleaseRow>('SELECT * FROM releases WHERE id = ?', id);
  }
  releaseBySeq(app: string, seq: number): ReleaseRow | undefined {
    return this.one<ReleaseRow>('SELECT * FROM releases WHERE app = ? AND seq = ?', app, seq);
  }
  releasesOf(app: string): ReleaseRow[] {
    return this.many<ReleaseRow>('SELECT * FROM releases WHERE app = ? ORDER BY seq DESC', app);
  }
  setReleaseState(id: number, state: ReleaseState, warmUntil: string | null = null): void {
    this.q('UPDATE releases SET state = ?, warm_until = ? WHERE id = ?').run(state, warmUntil, id);
  }
  setReleaseImage(id: number, imageId: string, digest: string | null): void {
    this.q('UPDATE releases SET image_id = ?, digest = ? WHERE id = ?').run(imageId, digest, id);
  }
  /** The processes' own images pinned to ids once pulled (core/deploy/processes.ts ProcessTable). */
  setReleaseProcesses(id: number, processes: string): void {
    this.q('UPDATE releases SET processes = ? WHERE id = ?').run(processes, id);
  }
  /** The release's description (core/deploy/release-spec.ts), its site image pinned to an id once pulled. */
  setReleaseSpec(id: number, spec: string): void {
    this.q('UPDATE releases SET spec = ? WHERE id = ?').run(spec, id);
  }
  warmReleasesDue(at: string): ReleaseRow[] {
    return this.many<ReleaseRow>("SELECT * FROM releases WHERE state = 'warm' AND warm_until IS NOT NULL AND warm_until <= ?", at);
  }

  // deploys and their journal
  insertDeploy(d: { app: string; kind: DeployKind; release_id: number | null; previous_release_id: number | null; actor: string }): DeployRow {
    const info = this.q(`INSERT INTO deploys(app, kind, release_id, previous_release_id, state, actor, started_at)
      VALUES (?, ?, ?, ?, 'running', ?, ?)`).run(d.app, d.kind, d.release_id, d.previous_release_id, d.actor, now());
    return this.getDeploy(Number(info.lastInsertRowid))!;
  }
  getDeploy(id: number): DeployRow | undefined {
    return this.one<DeployRow>('SELECT * FROM deploys WHERE id = ?', id);
  }
  setDeployReleases(id: number, releaseId: number, previousId: number | null): void {
    this.q('UPDATE deploys SET release_id = ?, previous_release_id = ? WHERE id = ?').run(releaseId, previousId, id);
  }
  runningDeploys(): DeployRow[] {
    return this.many<DeployRow>("SELECT * FROM deploys WHERE state = 'running' ORDER BY id");
  }
  journal(deployId: number, step: string, state: 'started' | 'done' | 'failed' | 'skipped', detail?: unknown): void {
    this.q('INSERT INTO deploy_steps(deploy_id, step, state, at, detail) VALUES (?, ?, ?, ?, ?)')
      .run(deployId, step, state, now(), detail === undefined ? null : JSON.stringify(detail));
    if (state === 'started') this.q('UPDATE deploys SET step = ? WHERE id = ?').run(step, deployId);
  }
  stepsOf(deployId: number): { step: string; state: string; at: string; detail: string | null }[] {
    return this.q('SELECT step, state, at, detail FROM deploy_steps WHERE deploy_id = ? ORDER BY id').all(deployId) as never;
  }
  stepDone(deployId: number, step: string): boolean {
    return !!this.q("SELECT 1 FROM deploy_steps WHERE deploy_id = ? AND step = ? AND state = 'done'").get(deployId, step);
  }
  finishDeploy(id: number, state: Exclude<DeployState, 'running'>, error?: string): void {
    this.q('UPDATE deploys SET state = ?, finished_at = ?, error = ? WHERE id = ?').run(state, now(), error ?? null, id);
  }
  deploysOf(app: string, limit = 20): DeployRow[] {
    return this.many<DeployRow>('SELECT * FROM deploys WHERE app = ? ORDER BY id DESC LIMIT ?', app, limit);
  }

  // locks
  getLock(app: string): LockRow | undefined { return this.one<LockRow>('SELECT * FROM locks WHERE app = ?', app); }
  tryLock(l: Omit<LockRow, 'acquired_at'>): boolean {
    return this.q('INSERT OR IGNORE INTO locks(app, deploy_id, actor, acquired_at, daemon_boot) VALUES (?, ?, ?, ?, ?)')
      .run(l.app, l.deploy_id, l.actor, now(), l.daemon_boot).changes === 1;
  }
  unlock(app: string, deployId: number): void { this.q('DELETE FROM locks WHERE app = ? AND deploy_id = ?').run(app, deployId); }
  staleLocks(boot: string): LockRow[] { return this.many<LockRow>('SELECT * FROM locks WHERE daemon_boot != ?', boot); }

  // audit
  audit(e: { actor: string; action: string; app?: string | null; result: string; detail?: unknown }): void {
    this.q('INSERT INTO audit(at, actor, action, app, result, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(now(), e.actor, e.action, e.app ?? null, e.result, e.detail === undefined ? null : JSON.stringify(e.detail));
  }
  /** The newest audit entry of one action for an app (e.g. its last kill for memory). */
  meta(key: string): string | null { return this.one<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value ?? null; }
  setMeta(key: string, value: string | null): void {
    if (value === null) this.q('DELETE FROM meta WHERE key = ?').run(key);
    else this.q('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
  /** The incidents a notification went out for, still open. */
  incidents(): { key: string; detail: string; since: string }[] { return this.many('SELECT * FROM incidents ORDER BY key'); }
  openIncident(key: string, detail: string): void { this.q('INSERT OR REPLACE INTO incidents(key, detail, since) VALUES (?, ?, ?)').run(key, detail, now()); }
  closeIncident(key: string): void { this.q('DELETE FROM incidents WHERE key = ?').run(key); }

  lastAudit(app: string, action: string): AuditRow | undefined {
    return this.one<AuditRow>('SELECT * FROM audit WHERE app = ? AND action = ? ORDER BY id DESC LIMIT 1', app, action);
  }
  /** The last platform-wide entry (no app) of `action` that ended with `result`. */
  lastPlatformAudit(action: string, result: string): AuditRow | undefined {
    return this.one<AuditRow>('SELECT * FROM audit WHERE app IS NULL AND action = ? AND result = ? ORDER BY id DESC LIMIT 1', action, result);
  }
  auditLog(app?: string, limit = 100): AuditRow[] {
    return app
      ? this.many<AuditRow>('SELECT * FROM audit WHERE app = ? ORDER BY id DESC LIMIT ?', app, limit)
      : this.many<AuditRow>('SELECT * FROM audit ORDER BY id DESC LIMIT ?', limit);
  }

  // shared services (secrets encrypted by the caller)
  getService(name: string): { name: string; mode: string; secret: string } | undefined {
    return this.q('SELECT * FROM services WHERE name = ?').get(name) as never;
  }
  setService(name: string, mode: string, secret: string): void {
    this.q('INSERT INTO services(name, mode, secret) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET mode = excluded.mode, secret = excluded.secret').run(name, mode, secret);
  }
  appService(app: string, service: string): string | undefined {
    return (this.one<{ secret: string }>('SELECT secret FROM app_services WHERE app = ? AND service = ?', app, service))?.secret;
  }
  setAppService(app: string, service: string, secret: string): void {
    this.q('INSERT INTO app_services(app, service, secret) VALUES (?, ?, ?) ON CONFLICT(app, service) DO UPDATE SET secret = excluded.secret').run(app, service, secret);
  }
  appServices(app: string): string[] {
    return JSON.parse((this.one<{ services: string }>('SELECT services FROM apps WHERE name = ?', app))?.services ?? '[]') as string[];
  }
  /** How many copies of each process run (core/deploy/processes.ts Formation). */
  setFormation(app: string, formation: Record<string, number>): void {
    this.q('UPDATE apps SET formation = ? WHERE name = ?').run(JSON.stringify(formation), app);
  }

  /** The app's own limits (lib/limits.ts), as JSON; the defaults fill what it leaves out. */
  setAppLimits(app: string, limits: object): void {
    this.q('UPDATE apps SET limits = ? WHERE name = ?').run(JSON.stringify(limits), app);
  }
  setAppServices(app: string, services: string[]): void {
    this.q('UPDATE apps SET services = ? WHERE name = ?').run(JSON.stringify(services), app);
  }

  // registry credentials (encrypted by the caller)
  setRegistryAuth(registry: string, enc: string): void {
    this.q('INSERT INTO registry_auth(registry, auth) VALUES (?, ?) ON CONFLICT(registry) DO UPDATE SET auth = excluded.auth').run(registry, enc);
  }
  registryAuth(registry: string): string | undefined {
    return (this.one<{ auth: string }>('SELECT auth FROM registry_auth WHERE registry = ?', registry))?.auth;
  }
}
