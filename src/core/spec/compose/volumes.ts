// A service's volumes: (short "name:/path:ro" and long {type, source, target} syntax). Named
// volumes are kept and persist across releases; bind mounts of host directories and anonymous
// volumes are reported, since a release must not depend on the server's file tree.
import type { Path } from '../issues.js';
import type { ComposeCtx } from './context.js';
import { isMap } from './values.js';

export interface ComposeMount { volume: string; path: string; read_only: boolean }

const isHostPath = (src: string) => /^[./~]/.test(src) || src.includes('/');

function shortMount(s: string): { source: string | null; target: string; readOnly: boolean } | null {
  const parts = s.split(':');
  if (parts.length === 1) return { source: null, target: parts[0]!, readOnly: false };
  if (parts.length > 3 || !parts[1]) return null;
  return { source: parts[0]!, target: parts[1], readOnly: (parts[2] ?? '').split(',').includes('ro') };
}

function longMount(m: Record<string, unknown>, at: Path, ctx: ComposeCtx): { source: string | null; target: string; readOnly: boolean; type: string } | null {
  if (typeof m.target !== 'string') return null;
  const type = String(m.type ?? 'volume');
  for (const k of Object.keys(m).filter((k) => !['type', 'source', 'target', 'read_only'].includes(k))) {
    ctx.findings.warn([...at, k], 'not supported, ignored');
  }
  return { source: typeof m.source === 'string' && m.source ? m.source : null, target: m.target, readOnly: m.read_only === true, type };
}

export function serviceMounts(raw: unknown, at: Path, ctx: ComposeCtx): ComposeMount[] {
  if (!Array.isArray(raw)) {
    ctx.findings.error(at, 'expected a list of volumes');
    return [];
  }
  const mounts: ComposeMount[] = [];
  raw.forEach((entry, i) => {
    const here = [...at, i];
    const m = typeof entry === 'string' ? shortMount(entry) : isMap(entry) ? longMount(entry, here, ctx) : null;
    if (!m) return ctx.findings.error(here, 'expected NAME:/path[:ro], or {type, source, target, read_only}');
    const type = 'type' in m ? m.type : m.source !== null && isHostPath(m.source) ? 'bind' : 'volume';
    if (type === 'bind') {
      return ctx.findings.warn(here, `bind mount of ${m.source} not supported, ignored: a release must not depend on the server's files; `
        + 'use a named volume (data:/app/data, declared under volumes)');
    }
    if (type !== 'volume') return ctx.findings.warn(here, `${type} mounts are not supported, ignored`);
    if (m.source === null) {
      return ctx.findings.warn(here, `anonymous volume at ${m.target} not supported, ignored: its data would not be kept across releases (give it a name)`);
    }
    mounts.push({ volume: m.source, path: m.target, read_only: m.readOnly });
    return undefined;
  });
  return mounts;
}
