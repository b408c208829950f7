// Images berth needs but cannot pull on an offline host are built locally: a scratch image
// holding a program taken from a Debian package (or the host) and the shared libraries it
// links, found with ldd. Built once, then reused by tag.
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, streamFrom } from '../../exec/run.js';
import { BerthError } from '../../lib/errors.js';
import { type EngineApi, isNotFound } from './engine-api.js';
import { classifyPullError, pullImage } from './pull.js';

export interface ScratchImage {
  tag: string;
  /** Executables to copy with their libraries: host path -> path in the image. */
  programs: { from: string; to: string }[];
  files?: { from?: string; content?: string; to: string; mode?: number }[];
  dirs?: string[];
  dockerfileTail: string[];
  labels?: Record<string, string>;
  /** An unpacked root file system (e.g. Debian packages extracted with dpkg-deb -x) whose shared
   * libraries are preferred to the host's when resolving the programs' libraries; a library found
   * there lands at its path relative to it. With it, a library ldd cannot find fails the build. */
  libraryRoot?: string;
  /** Whole directory trees to copy, symbolic links kept as links: host dir -> dir in the image. */
  trees?: { from: string; to: string }[];
  /** Symbolic links to create: path in the image -> link target. */
  symlinks?: { path: string; target: string }[];
  /** Empty directories that are really mode 1777 (like /tmp), whatever the umask: for images whose
   * process runs as a non-root user. (`dirs` is subject to the umask, so usually ends up 1755.) */
  writableDirs?: string[];
}

/** Shared libraries a dynamically linked program needs, from ldd. */
export async function librariesOf(program: string): Promise<string[]> {
  const { stdout } = await run(['ldd', program]).catch((e: Error) => {
    if (/not a dynamic executable|statically linked/.test(e.message)) return { stdout: '' }; // a static binary has none
    throw e;
  });
  return [...stdout.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!).filter((p) => !p.startsWith(program));
}

/** Directories under an unpacked root that directly hold shared libraries (for LD_LIBRARY_PATH). */
function libraryDirs(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let hasLib = false;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.so(\.\d+)*$/.test(e.name)) hasLib = true;
    }
    if (hasLib) found.push(dir);
  };
  for (const d of ['lib', 'lib64', 'usr/lib', 'usr/lib64']) if (existsSync(join(root, d)) && !lstatSync(join(root, d)).isSymbolicLink()) walk(join(root, d));
  return found;
}

/**
 * Shared libraries a program needs, resolved by ldd first in `root` (an unpacked root file
 * system) and then on the host: host path -> path in the image. A missing library is an error.
 */
export async function librariesFrom(program: string, root: string): Promise<{ from: string; to: string }[]> {
  const env = { ...process.env, LD_LIBRARY_PATH: libraryDirs(root).join(':') };
  const { stdout } = await run(['ldd', program], { env }).catch((e: Error) => {
    if (/not a dynamic executable/.test(e.message)) return { stdout: '' }; // a static binary
    throw new BerthError('unavailable', `cannot list the shared libraries of ${program} with ldd: ${e.message}`, 'apt-get install libc-bin');
  });
  const missing = [...stdout.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]!);
  if (missing.length) {
    throw new BerthError('unavailable', `${program} needs shared libraries found neither in the downloaded packages nor on this host: ${missing.join(', ')}`,
      'install the Debian packages that hold them (apt-get install ...) and retry');
  }
  const prefix = root.endsWith('/') ? root : `${root}/`;
  return [...stdout.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!).filter((p) => !p.startsWith(program))
    .map((p) => ({ from: p, to: p.startsWith(prefix) ? `/${p.slice(prefix.length)}` : p }));
}

/** Copies a directory tree, keeping symbolic links as links and file modes as they are. */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dest = join(to, e.name);
    if (e.isSymbolicLink()) symlinkSync(readlinkSync(src), dest);
    else if (e.isDirectory()) copyTree(src, dest);
    else if (e.isFile()) {
      copyFileSync(src, dest);
      chmodSync(dest, statSync(src).mode & 0o7777);
    }
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p, ...listFiles(p)] : [p];
  });
}

export async function imageExists(api: EngineApi, tag: string): Promise<boolean> {
  return api.json('GET', `/images/${encodeURIComponent(tag)}/json`, `inspect image ${tag}`).then(() => true, (e) => {
    if (isNotFound(e)) return false;
    throw e;
  });
}

/** A label of a local image; null when the image is absent. */
export async function imageLabel(api: EngineApi, tag: string, label: string): Promise<string | null> {
  const img = await api.json<{ Config?: { Labels?: Record<string, string> } }>('GET', `/images/${encodeURIComponent(tag)}/json`, `inspect image ${tag}`)
    .catch((e) => { if (isNotFound(e)) return null; throw e; });
  return img ? img.Config?.Labels?.[label] ?? '' : null;
}

/** True when the image is present, or could be pulled now; false (saying why) when it cannot,
 *  for images that have an equivalent local build (the proxy's). */
export async function havePulled(api: EngineApi, ref: string, progress: (l: string) => void): Promise<boolean> {
  if (await imageExists(api, ref)) return true;
  return pullImage(api, ref, { progress, timeoutMs: 5 * 60_000 })
    .then(() => true, (e: Error) => {
      if (/cannot reach Docker Engine/.test(e.message)) throw e;
      progress(`cannot pull ${ref} (${classifyPullError(e.message).replace('_', ' ')}): ${e.message}`);
      return false;
    });
}

export async function buildScratchImage(api: EngineApi, spec: ScratchImage, progress: (l: string) => void): Promise<void> {
  const ctxDir = mkdtempSync(join(tmpdir(), 'berth-build-'));
  try {
    const put = (from: string, to: string, mode?: number) => {
      const dest = join(ctxDir, 'rootfs', to);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(from, dest);
      chmodSync(dest, mode ?? statSync(from).mode & 0o777);
    };
    for (const p of spec.programs) {
      put(p.from, p.to);
      if (spec.libraryRoot) for (const lib of await librariesFrom(p.from, spec.libraryRoot)) put(lib.from, lib.to);
      else for (const lib of await librariesOf(p.from)) put(lib, lib);
    }
    for (const t of spec.trees ?? []) copyTree(t.from, join(ctxDir, 'rootfs', t.to));
    for (const f of spec.files ?? []) {
      if (f.from) put(f.from, f.to, f.mode);
      else {
        const dest = join(ctxDir, 'rootfs', f.to);
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, f.content ?? '', { mode: f.mode ?? 0o644 });
      }
    }
    for (const d of spec.dirs ?? []) mkdirSync(join(ctxDir, 'rootfs', d), { recursive: true, mode: 0o1777 });
    for (const d of spec.writableDirs ?? []) {
      mkdirSync(join(ctxDir, 'rootfs', d), { recursive: true });
      chmodSync(join(ctxDir, 'rootfs', d), 0o1777);
    }
    for (const l of spec.symlinks ?? []) {
      const at = join(ctxDir, 'rootfs', l.path);
      mkdirSync(dirname(at), { recursive: true });
      rmSync(at, { force: true });
      symlinkSync(l.target, at);
    }
    writeFileSync(join(ctxDir, 'Dockerfile'), ['FROM scratch', 'COPY rootfs/ /', ...spec.dockerfileTail, ''].join('\n'));
    progress(`building image ${spec.tag} (${listFiles(ctxDir).length} files)`);
    const tar = streamFrom(['tar', '-C', ctxDir, '-c', '.']);
    await api.progress('POST', '/build', `build ${spec.tag}`, {
      // version 1: the classic builder, which takes a plain tar context (BuildKit needs a session);
      // the default in every API version from 1.41 to 1.52, said explicitly should that change
      query: { t: spec.tag, labels: JSON.stringify(spec.labels ?? {}), rm: true, forcerm: true, version: '1' },
      raw: tar.stdout, headers: { 'content-type': 'application/x-tar' }, timeoutMs: 10 * 60_000,
    }, (ev) => { if (typeof ev.stream === 'string' && ev.stream.trim().startsWith('Step')) progress(ev.stream.trim()); });
    await tar.done;
  } finally {
    rmSync(ctxDir, { recursive: true, force: true });
  }
}
