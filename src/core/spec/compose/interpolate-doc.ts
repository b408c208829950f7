// Interpolation over a whole compose file, as compose does it: every string value (not keys),
// x-berth included. A variable without a value is said once, with the first place it is used;
// a value that cannot be interpolated is an error, and is left out.
import { type Env, interpolate } from '../interpolate.js';
import type { Findings, Path } from '../issues.js';
import { joinPath } from '../issues.js';

export function interpolateDoc(doc: unknown, env: Env, findings: Findings): unknown {
  const unset = new Map<string, Path>();
  const walk = (v: unknown, at: Path): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('$')) return v;
      const r = interpolate(v, env);
      if (r.error) {
        findings.error(at, r.error);
        return undefined; // left out, so that the value's problem is said once
      }
      for (const name of r.unset) if (!unset.has(name)) unset.set(name, at);
      return r.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...at, i]));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...at, k])]).filter(([, x]) => x !== undefined));
    }
    return v;
  };
  const out = walk(doc, []);
  for (const [name, at] of unset) {
    findings.warn([], `${name} is not set: an empty string is used (first at ${joinPath(at)}; set it in your environment or in .env)`);
  }
  return out;
}
