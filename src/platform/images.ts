// Images berth needs but cannot pull on an offline host are built locally: a scratch image
// holding a program taken from a Debian package (or the host) and the shared libraries it
// links, found with ldd. Built once, then reused by tag.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run, streamFrom } from '../exec/run.js';
import { type EngineApi, isNotFound } from '../runtime/docker/engine-api.js';

export interface ScratchImage {
  tag: string;
  /** Executables to copy with their libraries: host path -> path in the image. */
  programs: { from: string; to: string }[];
  files?: { from?: string; content?: string; to: string; mode?: number }[];
  dirs?: string[];
  dockerfileTail: string[];
  labels?: Record<string, string>;
}

/** Shared libraries a dynamically linked program needs, from ldd. */
export async function librariesOf(program: string): Promise<string[]> {
  const { stdout } = await run(['ldd', program]).catch(() => ({ stdout: '' })); // static binaries make ldd fail
  return [...stdout.matchAll(/(\/[^\s]+)/g)].map((m) => m[1]!).filter((p) => !p.startsWith(program));
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
      for (const lib of await librariesOf(p.from)) put(lib, lib);
    }
    for (const f of spec.files ?? []) {
      if (f.from) put(f.from, f.to, f.mode);
      else {
        const dest = join(ctxDir, 'rootfs', f.to);
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, f.content ?? '', { mode: f.mode ?? 0o644 });
      }
    }
    for (const d of spec.dirs ?? []) mkdirSync(join(ctxDir, 'rootfs', d), { recursive: true, mode: 0o1777 });
    writeFileSync(join(ctxDir, 'Dockerfile'), ['FROM scratch', 'COPY rootfs/ /', ...spec.dockerfileTail, ''].join('\n'));
    progress(`building image ${spec.tag} (${listFiles(ctxDir).length} files)`);
    const tar = streamFrom(['tar', '-C', ctxDir, '-c', '.']);
    await api.progress('POST', '/build', `build ${spec.tag}`, {
      query: { t: spec.tag, labels: JSON.stringify(spec.labels ?? {}), rm: true, forcerm: true },
      raw: tar.stdout, headers: { 'content-type': 'application/x-tar' }, timeoutMs: 10 * 60_000,
    }, (ev) => { if (typeof ev.stream === 'string' && ev.stream.trim().startsWith('Step')) progress(ev.stream.trim()); });
    await tar.done;
  } finally {
    rmSync(ctxDir, { recursive: true, force: true });
  }
}
