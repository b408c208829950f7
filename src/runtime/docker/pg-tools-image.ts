// berth/pg-tools: the image berth's backup tasks run in (pg-tools.sh): PostgreSQL 15's client
// programs (pg_dump, pg_restore, psql, pg_amcheck: the shared server's version), Debian's age
// (a standard format a user can decrypt without berth), rclone (off-site copies to S3: streamed
// multipart uploads with retries) and busybox for the script. Built FROM
// scratch from Debian packages like the services' images, once; a changed script rebuilds it.
//   postgresql-client-15 15.20-0+deb12u1, age 1.1.1-1+b3, rclone 1.60.1+dfsg-2+b5, busybox-static 1:1.35.0-4+deb12u1+b1
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sourceFile } from '../../lib/install.js';
import type { EngineApi } from './engine-api.js';
import { buildScratchImage, imageLabel } from './images.js';
import { sourceLabel, unpackDebian } from './service-images.js';

export const PG_TOOLS_IMAGE = 'berth/pg-tools:15';
const PG = '/usr/lib/postgresql/15';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PACKAGES = ['postgresql-client-15', 'libpq5', 'age', 'rclone', 'busybox-static'];
export const PG_TOOLS_SCRIPT = sourceFile('src', 'runtime', 'docker', 'pg-tools.sh');

/** One build at a time: tasks that start together (the catch-up backups of every app) share it. */
let building: Promise<string> | undefined;

export function ensurePgToolsImage(api: EngineApi, progress: (l: string) => void): Promise<string> {
  building ??= buildIfNeeded(api, progress).finally(() => { building = undefined; });
  return building;
}

async function buildIfNeeded(api: EngineApi, progress: (l: string) => void): Promise<string> {
  // the script and the packages it needs: a change to either rebuilds the image
  const hash = createHash('sha256').update(readFileSync(PG_TOOLS_SCRIPT)).update(PACKAGES.join(' ')).digest('hex').slice(0, 16);
  const have = await imageLabel(api, PG_TOOLS_IMAGE, 'berth.script');
  if (have === hash) return PG_TOOLS_IMAGE;
  progress(have ? `${PG_TOOLS_IMAGE} holds an older script: rebuilding it`
    : `building ${PG_TOOLS_IMAGE} (PostgreSQL's client programs and age, from Debian packages)`);
  const u = await unpackDebian(PACKAGES, progress);
  try {
    const bin = join(u.root, PG, 'bin');
    const programs = ['pg_dump', 'pg_restore', 'psql', 'pg_amcheck'];
    const links = readdirSync(bin).filter((f) => programs.includes(f) && lstatSync(join(bin, f)).isSymbolicLink());
    const applets = ['sh', 'awk', 'cat', 'rm', 'mv', 'mkdir', 'head', 'wc', 'grep', 'tar', 'sort', 'tail'];
    await buildScratchImage(api, {
      tag: PG_TOOLS_IMAGE,
      libraryRoot: u.root,
      programs: [
        ...programs.filter((f) => !links.includes(f)).map((f) => ({ from: join(bin, f), to: `${PG}/bin/${f}` })),
        { from: join(u.root, 'usr/bin/age'), to: '/usr/bin/age' },
        { from: join(u.root, 'usr/bin/age-keygen'), to: '/usr/bin/age-keygen' },
        { from: join(u.root, 'usr/bin/rclone'), to: '/usr/bin/rclone' },
        { from: join(u.root, 'bin', 'busybox'), to: '/bin/busybox' },
      ],
      files: [
        { from: PG_TOOLS_SCRIPT, to: '/usr/local/bin/berth-pg-tools', mode: 0o755 },
        // rclone to an https endpoint (AWS, R2, B2) checks its certificate against the host's CAs
        ...(existsSync(CA_BUNDLE) ? [{ from: CA_BUNDLE, to: CA_BUNDLE }] : []),
      ],
      symlinks: [
        ...applets.map((a) => ({ path: `/bin/${a}`, target: 'busybox' })),
        ...links.map((f) => ({ path: `${PG}/bin/${f}`, target: readlinkSync(join(bin, f)) })),
      ],
      trees: [{ from: '/usr/lib/locale/C.utf8', to: '/usr/lib/locale/C.utf8' }], // glibc's, as in the PostgreSQL image
      writableDirs: ['/tmp'],
      dockerfileTail: [`ENV PATH=${PG}/bin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8`, 'ENTRYPOINT ["/usr/local/bin/berth-pg-tools"]'],
      labels: { 'berth.source': sourceLabel(u, PACKAGES), 'berth.script': hash },
    }, progress);
  } finally {
    rmSync(u.dir, { recursive: true, force: true });
  }
  return PG_TOOLS_IMAGE;
}
