// A directory taken out of an image (a static site's files, e.g. /app/dist of the frontend
// image): a container is created from the image and never started, its directory read through
// GET /containers/{id}/archive as a tar, extracted under dest, and the container removed.
//
// What the tar holds is the image author's, so extraction refuses whatever would reach beyond
// dest: names are joined under dest (tar-fs), no entry is written through a symlink or under a
// symlinked directory (tar-fs validates parents), and hard links must point inside. Symlinks that
// point outside dest are left out (reported in `skipped`), not kept: the proxy serves these files
// and follows symlinks when it serves, so `key -> /data/caddy/certificates/...` would publish the
// proxy's own private keys. Devices, FIFOs and the like are left out too. Owners are not kept
// (the files belong to whoever runs berth), nor setuid bits (tar-fs), nor modification times:
// each file gets the time it was copied, so that two releases' index.html of the same size never
// share an ETag (Caddy's is size and mtime) and a browser revalidating after a flip or a rollback
// never keeps the other release's page (a 304). Builds that pin mtimes (SOURCE_DATE_EPOCH) would.
import { resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ExtractOptions } from 'tar-fs';
import { BerthError } from '../../lib/errors.js';
import type { ExportedDir } from '../types.js';
import { type EngineApi, isNotFound } from './engine-api.js';
import { LABEL, type Names } from './specs.js';

const ARCHIVE_TIMEOUT_MS = 10 * 60_000;

/** tar-fs 3's extract options that berth sets (@types/tar-fs lags behind: chown, validateSymlinks, linkname). */
interface TarHeader { name: string; type: string; size?: number; linkname?: string }
interface TarOptions {
  chown: boolean; utimes: boolean; validateSymlinks: boolean;
  map: (h: TarHeader) => TarHeader; ignore: (name: string, h?: TarHeader) => boolean;
}

/** Extracts a tar of one directory (its first entry, whose name each entry starts with) under dest. */
export async function extractDir(tar: Readable, dest: string, what: string): Promise<ExportedDir> {
  const root = resolve(dest);
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  const out: ExportedDir = { files: 0, bytes: 0, skipped: [] };
  let first = true;
  let notDir: string | null = null;
  // The archive's names start with the directory's own name (dist/...): taken off here rather
  // than by tar-fs's `strip`, which also rewrites absolute symlink targets into relative ones.
  const drop = (name: string) => name.split('/').slice(1).join('/');
  const opts: TarOptions = {
    chown: false,
    utimes: false,
    validateSymlinks: true,
    map: (h) => {
      if (first && h.type !== 'directory') notDir = h.type;
      first = false;
      return { ...h, name: drop(h.name), ...(h.type === 'link' && h.linkname ? { linkname: drop(h.linkname) } : {}) };
    },
    ignore: (name, h) => {
      if (notDir) return true;
      const type = h?.type;
      const rel = name.slice(root.length + 1) || '.';
      if (type === 'symlink' && !inside(resolve(name, '..', h!.linkname ?? ''))) {
        out.skipped.push(`${rel} -> ${h!.linkname} (points outside the directory)`);
        return true;
      }
      if (type !== 'file' && type !== 'directory' && type !== 'symlink' && type !== 'link') {
        out.skipped.push(`${rel} (a ${type})`);
        return true;
      }
      if (type === 'file') {
        out.files++;
        out.bytes += h!.size ?? 0;
      }
      return false;
    },
  };
  // loaded here, not at the daemon's start: the tar code costs ~2 MB resident that rests unused
  const { extract } = await import('tar-fs');
  await pipeline(tar, extract(root, opts as unknown as ExtractOptions));
  if (notDir) throw new BerthError('invalid', `${what} is not a directory (it is a ${notDir})`, 'give the directory that holds the files');
  return out;
}

export async function exportDir(api: EngineApi, names: Names, image: string, path: string, dest: string): Promise<ExportedDir> {
  if (!path.startsWith('/') || path === '/' || path.split('/').includes('..')) {
    throw new BerthError('invalid', `${JSON.stringify(path)}: give the image's directory that holds the files, such as /app/dist`);
  }
  const what = `${path} of ${image}`;
  // never started: the command is not run, it only lets an image without one be created
  const body = { Image: image, Cmd: ['berth-export'], NetworkDisabled: true, Labels: { [LABEL.instance]: names.instance, [LABEL.role]: 'export' } };
  const { Id: id } = await api.json<{ Id: string }>('POST', '/containers/create', `create a container of ${image} to copy ${path}`, { body })
    .catch((e) => {
      if (isNotFound(e)) throw new BerthError('not_found', `no such image: ${image}`, 'build or pull it first');
      throw e;
    });
  try {
    const res = await api.open('GET', `/containers/${id}/archive`, `copy ${what}`, { query: { path }, timeoutMs: ARCHIVE_TIMEOUT_MS })
      .catch((e) => {
        if (isNotFound(e)) throw new BerthError('not_found', `${what}: no such directory in the image`, 'check the static root in berth.yml');
        throw e;
      });
    return await extractDir(res, dest, what);
  } finally {
    await api.buffer('DELETE', `/containers/${id}`, `remove the copy container of ${image}`, { query: { force: true } })
      .catch((e) => { if (!isNotFound(e)) throw e; });
  }
}
