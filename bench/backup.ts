// Backups: berth backup create on an app database of --mb megabytes (default 1024) and on a small
// one (--small-mb, default 10); the daemon's peak resident memory (sampled every 100 ms) during
// each, beside its memory at rest and its services worker's (a child process), and the
// throughput as a ratio to a plain `pg_dump -Fc > file` of the same database in the same run (the same pg_dump, in the same berth/pg-tools image, on the same
// network; the two alternate, twice each, and the medians are compared). verify_s: berth backup
// verify of the big backup (restore into a scratch database, pg_amcheck, row counts).
//
//   npm run bench -- backup [--mb 1024] [--small-mb 10] [--rounds 2]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DaemonClient } from '../src/daemon/client.js';
import { docker, type Platform } from '../test/helpers/platform.js';
import { childrenRssMb, log, main, median, numArg, round, rssMb, timed, withPlatform } from './lib/common.js';

const bigMb = numArg('mb', 1024);
const smallMb = numArg('small-mb', 10);
const rounds = numArg('rounds', 2);
type Conn = { postgres: { user: string; password: string; db: string } };

async function pgIp(p: Platform): Promise<string> {
  return (await docker.getContainer(`${p.instance}-postgres`).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
}

/** Fills the app's database to about `mb` megabytes of rows that compress like real data (hex text). */
async function fill(p: Platform, app: string, mb: number): Promise<{ conn: Conn['postgres']; dbMb: number }> {
  const conn = (await new DaemonClient(join(p.root, 'run', 'berth.sock')).call<Conn>('GET', `/apps/${app}/services`)).postgres;
  const c = new pg.Client({ host: await pgIp(p), port: 5432, user: conn.user, password: conn.password, database: conn.db });
  await c.connect();
  try {
    await c.query('CREATE TABLE IF NOT EXISTS rows(id bigserial PRIMARY KEY, payload text NOT NULL)');
    const size = async () => Number((await c.query('SELECT pg_database_size(current_database()) AS s')).rows[0].s) / 1048576;
    // rows of ~380 bytes on disk, at most 200k a statement (~75 MB), fewer for a small database
    const batch = Math.min(200_000, Math.max(2_000, Math.round(mb * 1_000)));
    while (await size() < mb) {
      await c.query(`INSERT INTO rows(payload) SELECT md5(random()::text) || md5(random()::text) || repeat(md5(g::text), 8)
        FROM generate_series(1, ${batch}) g`);
      log(`${app}: ${Math.round(await size())} MB`);
    }
    return { conn, dbMb: round(await size(), 0) };
  } finally {
    await c.end();
  }
}

/** Peak RSS (MB) of the daemon, and of its children (the services worker), while fn runs. */
async function peakRss(p: Platform, fn: () => Promise<unknown>): Promise<{ daemon: number; children: number }> {
  const pid = Number(readFileSync(join(p.root, 'run', 'daemon.pid'), 'utf8').trim());
  const peak = { daemon: 0, children: 0 };
  const sample = () => { peak.daemon = Math.max(peak.daemon, rssMb(pid)); peak.children = Math.max(peak.children, childrenRssMb(pid)); };
  sample();
  const t = setInterval(sample, 100);
  try { await fn(); } finally { clearInterval(t); }
  return { daemon: round(peak.daemon, 1), children: round(peak.children, 1) };
}

/** The baseline: pg_dump -Fc > file, in the same image on the same network, as the app's role. */
async function plainDump(p: Platform, conn: Conn['postgres']): Promise<number> {
  const ip = await pgIp(p);
  const t0 = performance.now();
  const c = await docker.createContainer({
    Image: 'berth/pg-tools:15', Entrypoint: ['sh', '-c', 'pg_dump -Fc -w --dbname="$DB" > /tmp/plain.dump && wc -c < /tmp/plain.dump'],
    Env: [`PGHOST=${ip}`, 'PGPORT=5432', `PGUSER=${conn.user}`, `PGPASSWORD=${conn.password}`, `DB=${conn.db}`],
    Labels: { 'berth.instance': p.instance }, HostConfig: { NetworkMode: p.instance, Tmpfs: { '/tmp': '' } },
  });
  try {
    await c.start();
    const r = await c.wait();
    if (r.StatusCode !== 0) throw new Error(`plain pg_dump exited ${r.StatusCode}`);
  } finally {
    await c.remove({ force: true });
  }
  return (performance.now() - t0) / 1000;
}

main('backup', () => withPlatform(async (p) => {
  for (const app of ['big', 'small']) await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-redis', '--no-bucket']);
  const big = await fill(p, 'big', bigMb);
  const small = await fill(p, 'small', smallMb);
  log(`databases: big ${big.dbMb} MB, small ${small.dbMb} MB`);
  await plainDump(p, small.conn); // the image and the page cache warm, for both
  const plain: number[] = [];
  const berth: number[] = [];
  const peaks: { daemon: number; children: number }[] = [];
  const rest = await peakRss(p, () => new Promise((r) => setTimeout(r, 1000)));
  for (let i = 0; i < rounds; i++) {
    plain.push(await plainDump(p, big.conn));
    let ms = 0;
    peaks.push(await peakRss(p, async () => { ms = (await timed(p, ['backup', 'create', 'big'])).ms; }));
    berth.push(ms / 1000);
    log(`round ${i + 1}: plain pg_dump ${round(plain[i]!, 1)} s, berth backup ${round(berth[i]!, 1)} s,`
      + ` daemon peak ${peaks[i]!.daemon} MB (children ${peaks[i]!.children} MB)`);
  }
  const smallPeak = await peakRss(p, () => timed(p, ['backup', 'create', 'small']));
  const v0 = performance.now();
  const verified = await p.json<{ state: string }>(['backup', 'verify', 'big']);
  if (verified.state !== 'ok') throw new Error(`verify said ${verified.state}`);
  const list = await p.json<{ size: number }[]>(['backup', 'list', 'big']);
  return {
    db_mb: big.dbMb, backup_mb: round(list[0]!.size / 1048576, 0), rss_peak_mb: Math.max(...peaks.map((x) => x.daemon)), rss_peak_mb_small: smallPeak.daemon,
    small_db_mb: small.dbMb, rss_rest_mb: rest.daemon, worker_rss_peak_mb: Math.max(...peaks.map((x) => x.children), smallPeak.children),
    plain_s: round(median(plain), 1), berth_s: round(median(berth), 1), throughput_ratio: round(median(plain) / median(berth), 2),
    verify_s: round((performance.now() - v0) / 1000, 1),
  };
}));
