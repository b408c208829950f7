// Compose's own value forms, turned into berth's: Go durations (1m30s), byte sizes (512M,
// 1073741824), port specs (127.0.0.1:8080:8000/tcp), KEY=VALUE lists, commands as strings.
import { ValidationError } from '../../../lib/errors.js';
import { splitWords } from '../../../lib/shell-words.js';

export const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** 1m30s, 500ms, 10s or a number of seconds, in milliseconds; null when it is none of those. */
export function composeDuration(raw: unknown): number | null {
  if (typeof raw === 'number') return raw >= 0 ? Math.round(raw * 1000) : null;
  if (typeof raw !== 'string' || !/^([0-9.]+(ns|us|µs|ms|s|m|h))+$/.test(raw.trim())) return null;
  let ms = 0;
  for (const [, n, unit] of raw.trim().matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * DURATION_UNITS[unit!]!;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** A byte size (a bare number is bytes, as in compose) as berth's memory form: megabytes. */
export function composeMemory(raw: unknown): string | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmg]?b?)$/i.exec(String(raw).trim());
  if (!m) return null;
  return `${Math.ceil((Number(m[1]) * BYTE_UNITS[m[2]!.toLowerCase()]!) / 1024 ** 2)}m`;
}

export interface PortSpec { container: number; published: string | null; protocol: string; range: boolean }

/** One entry of ports: (short or long syntax) or expose:. */
export function portSpec(raw: unknown): PortSpec | null {
  if (isMap(raw)) {
    const container = Number(raw.target);
    if (!Number.isInteger(container)) return null;
    return { container, published: raw.published === undefined ? null : String(raw.published), protocol: String(raw.protocol ?? 'tcp'), range: false };
  }
  const [spec, protocol = 'tcp', extra] = String(raw).trim().split('/');
  const parts = spec!.split(':');
  const container = parts.pop()!;
  const published = parts.pop() ?? null;
  const m = /^([0-9]+)(-[0-9]+)?$/.exec(container);
  if (!m || extra !== undefined || (published !== null && !/^[0-9]*(-[0-9]+)?$/.test(published))) return null;
  return { container: Number(m[1]), published: published || null, protocol, range: m[2] !== undefined };
}

/** environment:, build.args: and labels: come as a mapping or as a list of KEY=VALUE (or KEY). */
export function pairs(raw: unknown): [string, unknown][] | null {
  if (isMap(raw)) return Object.entries(raw);
  if (!Array.isArray(raw)) return null;
  return raw.map((e) => {
    const s = String(e);
    const eq = s.indexOf('=');
    return eq < 0 ? [s, null] : [s.slice(0, eq), s.slice(eq + 1)];
  });
}

/** command: and entrypoint: as argv. A string is split as compose splits it (shell quoting, no
 *  shell); a $ left after interpolation came from $$ and is kept. */
export function composeCommand(raw: unknown): { argv: string[] } | { error: string; hint?: string } {
  if (Array.isArray(raw)) {
    return raw.every((w) => typeof w === 'string' || typeof w === 'number') ? { argv: raw.map(String) } : { error: 'expected a list of strings' };
  }
  if (typeof raw !== 'string') return { error: 'expected a string or a list of strings' };
  try {
    return { argv: splitWords(raw, '', { literalDollar: true }) };
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return { error: e.message.slice(e.path.length + 2), hint: 'compose runs it without a shell too: write ["sh", "-c", "..."] to run a shell' };
  }
}
