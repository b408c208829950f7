// docker-buildx for an engine that has none: Debian 12 ships no docker-buildx, so berth takes the
// pinned one of sid (like Caddy), unpacks its one static binary from the .deb into
// /var/cache/berth and never installs the package. One on the host (a cli-plugins directory) is
// used as it is.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, which } from '../../exec/run.js';
import { pinnedDeb } from '../../exec/debian-suite.js';

export const BUILDX_DEBIAN = { pkg: 'docker-buildx', version: '0.29.1+ds1-4', suite: 'sid' } as const;
const CACHE = '/var/cache/berth/buildx';
const PLUGIN = 'usr/libexec/docker/cli-plugins/docker-buildx';
const HOST_PLUGINS = ['/usr/libexec', '/usr/lib', '/usr/local/lib'].map((d) => `${d}/docker/cli-plugins/docker-buildx`);

/** Where the pinned binary is unpacked. */
export const pinnedBuildxPath = (cache = CACHE) => join(cache, BUILDX_DEBIAN.version, 'docker-buildx');

/** The docker-buildx berth uses: $BERTH_BUILDX (a path, or "none" for the engine's classic
 *  builder), else the pinned one once unpacked, else the host's; null when there is none. */
export function findBuildx(env = process.env, cache = CACHE): string | null {
  if (env.BERTH_BUILDX) return env.BERTH_BUILDX === 'none' ? null : env.BERTH_BUILDX;
  for (const p of [pinnedBuildxPath(cache), ...HOST_PLUGINS]) if (existsSync(p)) return p;
  return which('docker-buildx');
}

/** Unpacks the pinned docker-buildx when neither it nor the host's is there; returns its path,
 *  version and whether it was fetched now. Fails (BerthError 'unavailable') when the mirror
 *  cannot give the package. */
export async function ensureBuildx(progress: (l: string) => void, cache = CACHE): Promise<{ path: string; version: string; fetched: boolean }> {
  let path = findBuildx(process.env, cache);
  const fetched = !path;
  if (!path) {
    const deb = await pinnedDeb(BUILDX_DEBIAN.pkg, BUILDX_DEBIAN.version, BUILDX_DEBIAN.suite, progress);
    const dir = mkdtempSync(join(tmpdir(), 'berth-buildx-deb-'));
    try {
      await run(['dpkg-deb', '-x', deb, dir]);
      path = pinnedBuildxPath(cache);
      mkdirSync(dirname(path), { recursive: true });
      copyFileSync(join(dir, PLUGIN), `${path}.part`);
      chmodSync(`${path}.part`, 0o755);
      renameSync(`${path}.part`, path); // whole or absent: findBuildx never sees half a binary
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const { stdout } = await run([path, 'version'], { timeoutMs: 30_000 });
  return { path, version: stdout.trim(), fetched };
}
