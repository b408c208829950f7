// One pinned package from another suite of the host's Debian mirror (e.g. caddy 2.11.4 from sid
// on a bookworm host), fetched as a .deb and never installed: apt reads that suite through a
// sources file and package lists of its own, so the host's apt state is never touched.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.js';
import { BerthError } from '../lib/errors.js';

const APT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
export const DEB_CACHE = '/var/cache/berth/debs';

/** The Debian mirror the host uses (not its security mirror), from its apt sources (pure). */
export function mirrorOf(sources: string): string {
  for (const block of sources.split(/\n\s*\n/)) {
    const uri = /^URIs:\s*(\S+)/m.exec(block)?.[1];
    const suites = /^Suites:\s*(.+)$/m.exec(block)?.[1] ?? '';
    if (uri && !/-security/.test(suites) && !/security/.test(uri)) return uri.replace(/\/$/, '');
  }
  for (const line of sources.split('\n')) {
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
    if (m && !/security/.test(m[1]!) && !/-security/.test(m[2]!)) return m[1]!.replace(/\/$/, '');
  }
  return DEFAULT_MIRROR;
}

function hostSources(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d')
    ? readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  return files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('\n\n');
}

/** apt options that make apt-get read only `suite` of the mirror, with lists kept under `state`. */
export function suiteAptOptions(state: string): string[] {
  return ['-o', `Dir::Etc::SourceList=${join(state, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(state, 'lists')}`, '-o', `Dir::Cache=${join(state, 'cache')}`];
}

/** Path of the .deb of package=version from `suite`, downloaded once into the cache. */
export async function pinnedDeb(pkg: string, version: string, suite: string, progress: (l: string) => void, cache = DEB_CACHE): Promise<string> {
  const arch = (await run(['dpkg', '--print-architecture'])).stdout.trim();
  const file = join(cache, `${pkg}_${version.replace(/^\d+:/, '')}_${arch}.deb`);
  if (existsSync(file)) return file;
  const state = join(cache, `apt-${suite}`);
  mkdirSync(join(state, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(state, 'cache', 'archives', 'partial'), { recursive: true });
  const mirror = mirrorOf(hostSources());
  // the same signing keys as the host's own suites: Debian signs every suite with its archive keys
  writeFileSync(join(state, 'sources.list'), `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${suite} main\n`);
  const apt = (args: string[]) => run(['apt-get', ...suiteAptOptions(state), ...args], { cwd: cache, timeoutMs: APT_TIMEOUT_MS });
  const download = () => apt(['download', `${pkg}=${version}`]);
  await download().catch(async () => {
    progress(`reading the package lists of Debian ${suite} from ${mirror}`);
    await apt(['update']);
    await download();
  }).catch((e: Error) => {
    throw new BerthError('unavailable', `cannot download Debian package ${pkg}=${version} from ${suite} (${mirror}): ${e.message}`,
      `check that the mirror serves ${suite} and still has this version (apt-cache policy ${pkg} with a ${suite} source); or pull the upstream image`);
  });
  if (!existsSync(file)) throw new BerthError('unavailable', `apt-get download did not leave ${file}`);
  return file;
}
