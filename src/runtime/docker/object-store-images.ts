// Local images of the object stores, for hosts where their published images cannot be pulled
// (none answer here; MinIO publishes none at all since October 2025): each holds a binary built
// from source by scripts/build-object-stores.sh (cargo for Garage, the Go module proxy for
// MinIO), cached under /var/cache/berth, never committed. Built once, then reused by tag.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import { GARAGE_VERSION } from '../../state/settings.js';
import type { EngineApi } from './engine-api.js';
import { buildScratchImage, imageExists } from './images.js';
import { unpackDebian } from './service-images.js';

/** The flavour of berth's Garage build (scripts/build-object-stores.sh GARAGE_BUILD): b2, argon2 optimized. */
const GARAGE_BUILD = 'b2';
export const GARAGE_LOCAL_IMAGE = `berth/garage:${GARAGE_VERSION}-${GARAGE_BUILD}-local`;
/** MinIO from source: the newest module version the Go proxy serves (2026-02-12, after the
 *  2025-10-15 fix of CVE-2025-62506); the tag's RELEASE date is the commit's. */
export const MINIO_SOURCE_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
export const MINIO_LOCAL_IMAGE = 'berth/minio:RELEASE.2026-02-12T20-18-48Z-source';

const CACHE = process.env.BERTH_BUILD_CACHE ?? '/var/cache/berth';
export const garageBinary = () => join(CACHE, `garage-${GARAGE_VERSION}-${GARAGE_BUILD}`, 'bin', 'garage');
export const minioBinary = () => join(CACHE, `minio-${MINIO_SOURCE_VERSION.split('-')[1]}`, 'bin', 'minio');
const BUILD_HINT = (what: string) => `build it once with: bash scripts/build-object-stores.sh ${what} (from berth's source tree; cargo/go needed)`;

/** berth/garage:VERSION-local: /garage, as in the published image (FROM scratch, one file). */
export async function ensureGarageImage(api: EngineApi, progress: (l: string) => void): Promise<string> {
  if (await imageExists(api, GARAGE_LOCAL_IMAGE)) return GARAGE_LOCAL_IMAGE;
  const bin = garageBinary();
  if (!existsSync(bin)) {
    const what = `Garage's image cannot be pulled and there is no local build of Garage ${GARAGE_VERSION} at ${bin}`;
    throw new BerthError('unavailable', what, BUILD_HINT('garage'));
  }
  await buildScratchImage(api, {
    tag: GARAGE_LOCAL_IMAGE,
    programs: [{ from: bin, to: '/garage' }],
    writableDirs: ['/tmp'],
    dockerfileTail: ['ENTRYPOINT ["/garage"]', 'CMD ["server"]'],
    labels: { 'berth.source': `crate garage@${GARAGE_VERSION} (cargo install --debug, argon2 optimized, features bundled-libs,lmdb)`, 'berth.service': 's3' },
  }, progress);
  return GARAGE_LOCAL_IMAGE;
}

// MinIO's official image answers its health check with `mc ready local`; this one has no mc, so
// a busybox script of that name asks MinIO's readiness endpoint instead.
const MC = '#!/bin/sh\nexec wget -q -O /dev/null http://127.0.0.1:9000/minio/health/ready\n';

/** berth/minio:...-source: MinIO's server built from source, with busybox for its health check. */
export async function ensureMinioImage(api: EngineApi, progress: (l: string) => void): Promise<string> {
  if (await imageExists(api, MINIO_LOCAL_IMAGE)) return MINIO_LOCAL_IMAGE;
  const bin = minioBinary();
  if (!existsSync(bin)) throw new BerthError('unavailable', `no local build of MinIO at ${bin}`, BUILD_HINT('minio'));
  const u = await unpackDebian(['busybox-static'], progress);
  try {
    await buildScratchImage(api, {
      tag: MINIO_LOCAL_IMAGE,
      programs: [{ from: bin, to: '/usr/bin/minio' }, { from: join(u.root, 'bin', 'busybox'), to: '/bin/busybox' }],
      files: [{ content: MC, to: '/usr/bin/mc', mode: 0o755 }],
      symlinks: ['sh', 'wget'].map((a) => ({ path: `/bin/${a}`, target: 'busybox' })),
      writableDirs: ['/tmp', '/data'],
      dockerfileTail: ['ENV PATH=/usr/bin:/bin', 'EXPOSE 9000', 'ENTRYPOINT ["/usr/bin/minio"]', 'CMD ["server","/data"]'],
      labels: {
        'berth.source': `go module github.com/minio/minio@${MINIO_SOURCE_VERSION}; busybox-static ${u.versions['busybox-static']}`, 'berth.service': 's3',
      },
    }, progress);
  } finally {
    rmSync(u.dir, { recursive: true, force: true });
  }
  return MINIO_LOCAL_IMAGE;
}
