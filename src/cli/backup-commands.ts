// `berth backup ...`: an app's logical backups (create, list, verify, delete) and the platform's
// backup key. A backup streams from the daemon as progress; the outcome is one line, or JSON.
import type { Command } from 'commander';
import { BerthError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import type { DaemonClient } from '../daemon/client.js';
import { BackupPolicyBody, BackupRestoreBody, BackupTargetBody, BackupVerifyBody, NotifyBody, parseBody } from '../daemon/bodies.js';
import { confirmTyped } from './confirm.js';
import { out, progress, table } from './output.js';

interface Deps {
  client: (timeoutMs?: number) => DaemonClient;
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}

interface Backup {
  id: number; app: string; kind: string; file: string; size: number; created_at: string; duration_ms: number; trigger: string;
  verified_at: string | null; verify_state: string | null; verify_detail: string | null; stored: string[];
}
interface Verified { backup: number; state: string; detail: string; tables: number; rows: number }
interface Restored { app: string; backup: number; db: string; previous_db: string; release: string | null; detail: string }
interface RestoreRow { id: number; backup: number; db: string; previous_db: string; at: string; purged_at: string | null }

interface PitrWindow {
  archiving: boolean; from: string | null; to: string | null; last_archived_at: string | null; note?: string;
  offsite?: { target: string; copied_at: string | null }[];
  base_backups: { label: string; type: string; finished_at: string; stored_bytes: number }[]; archive_failing: { at: string; wal: string } | null;
}

function pitrText(w: PitrWindow): string {
  if (!w.archiving) return w.note ?? 'this platform does not archive its PostgreSQL';
  const lines = [w.from ? `recoverable: from ${w.from} to now (${w.to})` : `nothing recoverable yet: ${w.note ?? 'no base backup'}`,
    `WAL last archived: ${w.last_archived_at ?? 'never yet'}`];
  for (const t of w.offsite ?? []) lines.push(`copied to target ${t.target}: ${t.copied_at ?? 'not yet'}`);
  const f = w.archive_failing;
  if (f) lines.push(`WARNING: archiving is failing since ${f.at} (segment ${f.wal}): see berth services logs postgres`);
  if (w.base_backups.length) lines.push('base backups:', table(w.base_backups.map((b) => ({ label: b.label, type: b.type, finished: b.finished_at,
    stored: mb(b.stored_bytes) })), ['label', 'type', 'finished', 'stored']));
  return lines.join('\n');
}

const LOST = 'lost the daemon during the backup task; nothing half-written is recorded: see berth backup list';
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
const enc = encodeURIComponent;

export function backupCommands(program: Command, { client, globals, action }: Deps): void {
  const backup = program.command('backup').description('backups of app databases: create, list, verify by restoring, delete; the backup key');
  const json = () => !!globals().json;
  const onProgress = (e: { type: string; line?: unknown }) => { if (e.type === 'progress' && !json()) progress(String(e.line)); };

  backup.command('create [name]').description("back up an app's database now (pg_dump, encrypted to the backup key), or every app's with --all")
    .option('--all', 'every app that has a database; one failing does not stop the others')
    .action(action(async (name: string | undefined, o: { all?: boolean }) => {
      if (!name === !o.all) throw new BerthError('invalid', 'name one app, or give --all', 'berth backup create shop, or berth backup create --all');
      const apps = o.all
        ? (await client().call<{ name: string; resources?: Record<string, unknown> }[]>('GET', '/apps')).map((a) => a.name) : [v.appName(name!)];
      const done: Backup[] = [];
      const failed: { app: string; error: string }[] = [];
      for (const app of apps) {
        try {
          done.push(await client().stream<Backup>('POST', `/apps/${enc(app)}/backups`, {}, onProgress, LOST));
        } catch (e) {
          if (!o.all || (e instanceof BerthError && e.code === 'conflict' && /has no database/.test(e.message))) {
            if (!o.all) throw e;
            progress(`${app}: no database, nothing to back up`);
            continue;
          }
          failed.push({ app, error: (e as Error).message });
          progress(`${app}: FAILED: ${(e as Error).message}`);
        }
      }
      const line = (b: Backup) => `${b.app}: backup #${b.id} ${mb(b.size)} in ${(b.duration_ms / 1000).toFixed(1)}s`;
      out(json(), o.all ? { backups: done, failed } : done[0], () => [...done.map(line), ...failed.map((f) => `${f.app}: FAILED: ${f.error}`)].join('\n'));
      if (failed.length) process.exitCode = 1;
    }));

  backup.command('schedule <name> [cron]').description("an app's backup policy: when it is backed up and verified, what retention keeps; shown without options")
    .option('--off', 'no scheduled backups (manual ones only)')
    .option('--timezone <tz>', 'the time zone of the schedules (IANA, e.g. Europe/Berlin)')
    .option('--verify <cron>', 'when its latest backup is verified by restoring it (default weekly: "0 4 * * 0"); "off" for never')
    .option('--verify-after', 'verify every backup right after it is made')
    .option('--no-verify-after', 'only on the verify schedule')
    .option('--keep-daily <n>', 'keep the newest backup of each of the last N days (default 7)')
    .option('--keep-weekly <n>', 'of each of the last N weeks (default 4)')
    .option('--keep-monthly <n>', 'of each of the last N months (default 6)')
    .option('--platform-volumes', 'the platform backup holds the app\'s volumes (the default)')
    .option('--no-platform-volumes', 'it leaves them out')
    .option('--platform-bucket', 'the platform backup holds the objects of the app\'s bucket too')
    .option('--no-platform-bucket', 'it leaves them out (the default)')
    .action(action(async (name: string, cron: string | undefined, o: {
      off?: boolean; timezone?: string; verify?: string; verifyAfter?: boolean; keepDaily?: string; keepWeekly?: string; keepMonthly?: string;
      platformVolumes?: boolean; platformBucket?: boolean;
    }) => {
      const app = enc(v.appName(name));
      const n = (s: string | undefined) => (s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : s);
      const body = Object.fromEntries(Object.entries({
        schedule: o.off ? null : cron, timezone: o.timezone, verify_schedule: o.verify === 'off' ? null : o.verify,
        verify_after: o.verifyAfter, keep_daily: n(o.keepDaily), keep_weekly: n(o.keepWeekly), keep_monthly: n(o.keepMonthly),
        platform_volumes: o.platformVolumes, platform_bucket: o.platformBucket,
      }).filter(([, x]) => x !== undefined));
      parseBody(BackupPolicyBody, body, 'options');
      type View = { policy: Record<string, unknown>; next_backup: string | null; next_verify: string | null };
      const r = Object.keys(body).length ? await client().call<View>('PUT', `/apps/${app}/backups/policy`, body)
        : await client().call<View>('GET', `/apps/${app}/backups/policy`);
      const p = r.policy;
      out(json(), r, () => [`backups: ${p.schedule ?? 'off'} (${String(p.timezone)}), next ${r.next_backup ?? '-'}`,
        `verify:  ${p.verify_schedule ?? 'off'}${p.verify_after ? ', and after every backup' : ''}, next ${r.next_verify ?? '-'}`,
        `keep:    ${String(p.keep_daily)} daily, ${String(p.keep_weekly)} weekly, ${String(p.keep_monthly)} monthly`
          + ' (and always the newest verified one)',
        `platform backup: its database${p.platform_volumes ? ', its volumes' : ''}${p.platform_bucket ? ', its bucket\'s objects' : ''}`].join('\n'));
    }));

  backup.command('target <kind> [name]')
    .description('add an off-site S3 target (AWS S3, R2, B2, a MinIO elsewhere): every backup is copied there and read back')
    .requiredOption('--endpoint <url>', 'the S3 endpoint, e.g. https://s3.eu-central-1.amazonaws.com')
    .requiredOption('--bucket <bucket>', 'an existing bucket')
    .requiredOption('--access-key <key>', 'the access key id')
    .option('--secret-key-stdin', 'read the secret key from stdin (the only way: never in argv, where ps shows it)')
    .option('--prefix <prefix>', 'a path in the bucket to keep backups under', '')
    .option('--region <region>', 'the region, for AWS', 'us-east-1')
    .action(action(async (kind: string, name: string | undefined, o: {
      endpoint: string; bucket: string; accessKey: string; secretKeyStdin?: boolean; prefix: string; region: string;
    }) => {
      if (kind !== 's3') throw new BerthError('invalid', `unknown target kind ${JSON.stringify(kind)}`, 'berth backup target s3 --endpoint URL --bucket B ...');
      if (!o.secretKeyStdin) {
        throw new BerthError('invalid', 'the secret key is read from stdin', 'echo "$SECRET" | berth backup target s3 ... --secret-key-stdin');
      }
      let secret = '';
      for await (const chunk of process.stdin) secret += chunk;
      const body = { name: name ?? 'offsite', endpoint: o.endpoint, bucket: o.bucket, region: o.region, prefix: o.prefix, access_key: o.accessKey,
        secret_key: secret.trim() };
      parseBody(BackupTargetBody, body, 'options');
      const r = await client(300_000).call<{ name: string; endpoint: string; bucket: string }>('POST', '/backups/targets', body);
      out(json(), r, () => `target ${r.name} (${r.endpoint}, bucket ${r.bucket}) works: every backup from now on is copied there`);
    }));

  backup.command('targets').description('the off-site targets, with their last success and last error')
    .option('--remove <name>', 'forget a target (its copies stay where they are)')
    .action(action(async (o: { remove?: string }) => {
      if (o.remove) {
        const r = await client().call<{ removed: string }>('DELETE', `/backups/targets/${enc(o.remove)}`);
        out(json(), r, () => `removed target ${r.removed}; its copies stay in the bucket`);
        return;
      }
      type Target = { name: string; endpoint: string; bucket: string; prefix: string; last_success_at: string | null; last_error: string | null };
      const rows = await client().call<Target[]>('GET', '/backups/targets');
      out(json(), rows, () => (rows.length ? table(rows.map((t) => ({ ...t, last_success_at: t.last_success_at ?? 'never', last_error: t.last_error ?? '-' })),
        ['name', 'endpoint', 'bucket', 'prefix', 'last_success_at', 'last_error'])
        : 'no off-site target: backups stay on this server alone; add one:'
          + ' berth backup target s3 --endpoint URL --bucket B --access-key K --secret-key-stdin'));
    }));

  program.command('notify').description('where berth says that backups failed or went stale (once per incident, and when it clears)')
    .argument('[kind]', 'webhook').argument('[url]', 'a Slack-compatible incoming webhook URL (its path is a secret: prefer --url-stdin)')
    .option('--url-stdin', 'read the URL from stdin, out of ps and the shell history')
    .option('--off', 'no notifications')
    .option('--test', 'send a test message')
    .action(action(async (kind: string | undefined, given: string | undefined, o: { off?: boolean; test?: boolean; urlStdin?: boolean }) => {
      if (kind !== undefined && kind !== 'webhook') throw new BerthError('invalid', `unknown channel ${JSON.stringify(kind)}`, 'berth notify webhook URL');
      let url = given;
      if (o.urlStdin) {
        url = '';
        for await (const chunk of process.stdin) url += chunk;
        url = url.trim();
      }
      if (url || o.off) {
        const body = { url: o.off ? null : url };
        parseBody(NotifyBody, body, 'options');
        const r = await client().call<{ webhook: string | null }>('PUT', '/notify/webhook', body);
        out(json(), r, () => (r.webhook ? `notifications go to ${r.webhook}` : 'no notifications'));
      }
      if (o.test) await client().call('POST', '/notify/test');
      const r = await client().call<{ webhook: string | null; incidents: { key: string; detail: string; since: string }[] }>('GET', '/notify');
      if (!url && !o.off) out(json(), r, () => [`webhook: ${r.webhook ?? 'none'}${o.test ? ' (test message sent)' : ''}`,
        ...r.incidents.map((i) => `open since ${i.since}: ${i.detail}`)].join('\n'));
    }));

  backup.command('list <name>').alias('ls').description("an app's backups: time, size, where stored, verified when and how")
    .action(action(async (name: string) => {
      const rows = await client().call<Backup[]>('GET', `/apps/${enc(v.appName(name))}/backups`);
      out(json(), rows, () => (rows.length ? table(rows.map((b) => ({
        id: b.id, kind: b.kind, created: b.created_at, size: mb(b.size), stored: b.stored.join(', ') || 'MISSING',
        verified: b.verify_state ? `${b.verify_state} ${b.verified_at}` : 'never',
      })), ['id', 'kind', 'created', 'size', 'stored', 'verified']) : `${name} has no backups; make one: berth backup create ${name}`));
    }));

  backup.command('verify <name> [id]')
    .description('restore a backup (the latest by default) into a scratch database and check it: pg_restore, pg_amcheck, row counts')
    .action(action(async (name: string, id: string | undefined) => {
      const body = id === undefined ? {} : { id: Number(id) };
      parseBody(BackupVerifyBody, body, 'id');
      const r = await client().stream<Verified>('POST', `/apps/${enc(v.appName(name))}/backups/verify`, body, onProgress, LOST);
      out(json(), r, () => `backup #${r.backup} of ${name}: ${r.state}: ${r.detail}`);
      if (r.state !== 'ok') process.exitCode = 1;
    }));

  backup.command('restore <name> [id]')
    .description('restore a backup (the latest by default) into a new database, check it, then move the app onto it with a zero-downtime release; '
      + 'the database before is kept')
    .option('--at <time>', 'instead of a backup: the database as it was at this instant, from the WAL archive ("2026-12-01 10:32:00", UTC '
      + 'unless an offset is given; see berth backup pitr)')
    .option('--dry-run', 'say what it would do, change nothing')
    .action(action(async (name: string, id: string | undefined, o: { dryRun?: boolean; at?: string }) => {
      if (id !== undefined && o.at) throw new BerthError('invalid', 'give a backup id or --at, not both', `berth backup restore ${name} --at "TIME"`);
      const body = { ...(id === undefined ? {} : { id: Number(id) }), ...(o.at ? { at: o.at } : {}), ...(o.dryRun ? { dry_run: true } : {}) };
      parseBody(BackupRestoreBody, body, 'options');
      const r = await client().stream<Restored | { plan: string[] }>('POST', `/apps/${enc(v.appName(name))}/backups/restore`, body,
        (e) => {
          if (json()) return;
          if (e.type === 'progress') progress(String(e.line));
          else if (e.type === 'step' && e.state === 'done') progress(`✓ ${String(e.step)}`);
        }, LOST);
      out(json(), r, () => ('plan' in r ? `plan:\n${r.plan.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`
        : `${name} now runs on ${r.db} (backup #${r.backup}${r.release ? `, release ${r.release}` : ''}): ${r.detail}\n`
          + `${r.previous_db} is kept; drop it once you are sure: berth backup restored ${name} --purge ID`));
    }));

  backup.command('pitr').description('point-in-time recovery: the window that can be restored to (berth backup restore NAME --at TIME), '
    + 'the base backups and the WAL archiver; --base takes a base backup now')
    .option('--base', 'take a base backup now (full when none of the last week is there, differential otherwise)')
    .option('--full', 'with --base: a full one')
    .option('--push', 'copy the archive to the backup targets now (the daemon does every 5 minutes, and after each base backup)')
    .action(action(async (o: { base?: boolean; full?: boolean; push?: boolean }) => {
      if (o.full && !o.base) throw new BerthError('invalid', '--full goes with --base', 'berth backup pitr --base --full');
      const w = o.base
        ? await client().stream<PitrWindow>('POST', '/backups/pitr/base', o.full ? { type: 'full' } : {}, onProgress, LOST)
        : o.push ? await client(0).call<PitrWindow>('POST', '/backups/pitr/push')
          : await client().call<PitrWindow>('GET', '/backups/pitr');
      out(json(), w, () => pitrText(w));
      if (w.archive_failing) process.exitCode = 1;
    }));

  backup.command('platform').description('back up the platform itself: every app\'s database, then the state, keys, settings and Caddy\'s '
    + 'certificates in one encrypted file, copied to every target (berth restore-host reads it); --list shows them')
    .option('--list', 'the platform backups there are')
    .option('--images', 'put every app\'s live release image in too (a new machine needs no registry; each can be hundreds of MB)')
    .action(action(async (o: { list?: boolean; images?: boolean }) => {
      if (o.list) {
        const rows = await client().call<Backup[]>('GET', '/backups/platform');
        out(json(), rows, () => (rows.length ? table(rows.map((b) => ({ id: b.id, created: b.created_at, size: mb(b.size), stored: b.stored.join(', ') })),
          ['id', 'created', 'size', 'stored']) : 'no platform backup yet: berth backup platform'));
        return;
      }
      const r = await client().stream<{ backup: Backup & { copies?: unknown }; apps: { app: string; backup: number | null; error?: string }[] }>(
        'POST', '/backups/platform', o.images ? { images: true } : {}, onProgress, LOST);
      out(json(), r, () => `platform backup #${r.backup.id} (${mb(r.backup.size)}) of ${r.apps.length} apps' databases and the platform's state: `
        + `${r.backup.file}\nrestore it on a new machine: berth restore-host --from s3://BUCKET/PREFIX --key backup.key ... (see the README)`);
      if (r.apps.some((a) => a.error)) process.exitCode = 1;
    }));

  backup.command('restored <name>').description('the databases restores moved the app away from (kept); --purge ID drops one (asks)')
    .option('--purge <id>', 'drop the database this restore replaced')
    .option('-y, --yes', 'do not ask (--purge)')
    .action(action(async (name: string, o: { purge?: string; yes?: boolean }) => {
      const app = enc(v.appName(name));
      if (o.purge) {
        await confirmTyped({
          yes: o.yes, question: `Drop the database restore #${o.purge} of ${name} replaced? Its data is gone for good.`, expect: o.purge,
          refusal: `refusing to drop the database of restore #${o.purge} without confirmation`,
          hint: `add --yes: berth backup restored ${name} --purge ${o.purge} --yes`,
        });
        const r = await client(300_000).call<RestoreRow>('DELETE', `/apps/${app}/restores/${enc(o.purge)}`);
        out(json(), r, () => `dropped ${r.previous_db}`);
        return;
      }
      const rows = await client().call<RestoreRow[]>('GET', `/apps/${app}/restores`);
      out(json(), rows, () => (rows.length ? table(rows.map((r) => ({
        id: r.id, at: r.at, backup: `#${r.backup}`, moved_to: r.db, kept: r.purged_at ? `${r.previous_db} (purged)` : r.previous_db,
      })), ['id', 'at', 'backup', 'moved_to', 'kept']) : `${name} was never restored`));
    }));

  backup.command('delete <name> <id>').description('delete a backup file and its record (asks first)')
    .option('-y, --yes', 'do not ask')
    .action(action(async (name: string, id: string, o: { yes?: boolean }) => {
      v.appName(name);
      await confirmTyped({ yes: o.yes, question: `Delete backup #${id} of ${name}? It cannot be brought back.`, expect: id,
        refusal: `refusing to delete backup #${id} of ${name} without confirmation`, hint: `add --yes: berth backup delete ${name} ${id} --yes` });
      const r = await client(300_000).call<{ deleted: number; file: string; kept_on: { target: string; error: string }[] }>(
        'DELETE', `/apps/${enc(name)}/backups/${enc(id)}`);
      out(json(), r, () => (r.kept_on.length
        ? `deleted backup #${r.deleted} (${r.file}) here; still on ${r.kept_on.map((k) => `${k.target} (${k.error.slice(0, 200)})`).join(', ')}: `
          + `its record stays, and the next prune or: berth backup delete ${name} ${id} tries again`
        : `deleted backup #${r.deleted} (${r.file})`));
    }));

  backup.command('key [export]').description('where the backup key is and its public half; `export` prints the key itself (asks first)')
    .option('-y, --yes', 'do not ask (export)')
    .action(action(async (what: string | undefined, o: { yes?: boolean }) => {
      if (what !== undefined && what !== 'export') throw new BerthError('invalid', `unknown: ${what}`, 'berth backup key, or berth backup key export');
      if (!what) {
        const k = await client().call<{ path: string; recipient: string }>('GET', '/backups/key');
        out(json(), k, () => `backup key: ${k.path}\nrecipient:  ${k.recipient}\nkeep a copy of the key away from this server: berth backup key export`);
        return;
      }
      await confirmTyped({ yes: o.yes, question: 'Print the backup key? Whoever has it can read every backup.', expect: 'export',
        refusal: 'refusing to print the backup key without confirmation', hint: 'add --yes: berth backup key export --yes > somewhere-safe.key' });
      const k = await client().call<{ path: string; identity: string }>('POST', '/backups/key/export');
      if (json()) out(true, k, () => '');
      else process.stdout.write(k.identity);
    }));
}
