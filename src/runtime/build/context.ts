// A build context as the builder will see it: the files of a directory that its .dockerignore
// does not exclude, listed once and used twice, for the content hash (the image's tag) and for
// the tar the engine's classic builder reads. BuildKit applies the same .dockerignore itself.
import dockerignore from '@balena/dockerignore';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export type EntryKind = 'file' | 'dir' | 'symlink';
export interface ContextEntry { path: string; kind: EntryKind; mode: number }

/** The patterns of a .dockerignore file (pure): comments and blank lines dropped, as Docker reads it. */
export function ignorePatterns(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Whether a context-relative path is excluded (pure). The Dockerfile and the .dockerignore are
 *  always sent, as the docker CLI does: the builder needs them (COPY still leaves them out). */
export function excluder(patterns: string[], dockerfile: string): (path: string) => boolean {
  const ig = dockerignore.default().add(patterns); // CommonJS: the factory is also its own .default
  const always = new Set([dockerfile, '.dockerignore']);
  return (path) => !always.has(path) && ig.ignores(path);
}

/** A pattern starting with `!` can bring back a file under an excluded directory, so such a
 *  directory must still be walked (pure). */
export const hasExceptions = (patterns: string[]) => patterns.some((p) => p.startsWith('!'));

/** The entries of the context that reach the builder, sorted; directories only where they hold
 *  an entry or are not excluded themselves. Sockets, FIFOs and devices are left out. */
export function contextEntries(dir: string, dockerfile: string): ContextEntry[] {
  const ignoreFile = join(dir, '.dockerignore');
  const patterns = existsSync(ignoreFile) ? ignorePatterns(readFileSync(ignoreFile, 'utf8')) : [];
  const excluded = excluder(patterns, dockerfile);
  const descendExcluded = hasExceptions(patterns);
  const out: ContextEntry[] = [];
  const walk = (rel: string): boolean => {
    let kept = false;
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      const mode = st.mode & 0o7777;
      const skip = excluded(path);
      if (st.isDirectory()) {
        if (skip && !descendExcluded) continue;
        const at = out.length;
        const inner = walk(path);
        if (inner || !skip) out.splice(at, 0, { path, kind: 'dir', mode });
        kept ||= inner || !skip;
      } else if (!skip && (st.isFile() || st.isSymbolicLink())) {
        out.push({ path, kind: st.isFile() ? 'file' : 'symlink', mode });
        kept = true;
      }
    }
    return kept;
  };
  walk('');
  return out;
}

/** What, besides the files, makes two builds the same build. */
export interface BuildInputs { dockerfile: string; args: Record<string, string>; target?: string }

/** A hash of the context's entries (paths, kinds, modes, contents, link targets) and the build's
 *  inputs: the same source gives the same hash on any machine. Files are read as streams. */
export async function contextHash(dir: string, entries: ContextEntry[], inputs: BuildInputs): Promise<string> {
  const h = createHash('sha256');
  const field = (s: string) => h.update(`${Buffer.byteLength(s)}:${s}`); // length-prefixed: no two inputs run together
  field(inputs.dockerfile);
  field(inputs.target ?? '');
  for (const [k, v] of Object.entries(inputs.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) { field(k); field(v); }
  for (const e of entries) {
    field(e.kind);
    field(e.path);
    field(e.mode.toString(8));
    if (e.kind === 'symlink') field(readlinkSync(join(dir, e.path)));
    if (e.kind === 'file') {
      field(String(lstatSync(join(dir, e.path)).size));
      for await (const chunk of createReadStream(join(dir, e.path))) h.update(chunk as Buffer);
    }
  }
  return h.digest('hex');
}

/** The immutable tag of a build (pure): berth/APP:build-<first 16 hex digits of the hash>. */
export const buildTag = (app: string, hash: string) => `berth/${app}:build-${hash.slice(0, 16)}`;
