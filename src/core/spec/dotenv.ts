// .env files as docker compose reads them: KEY=VALUE lines, `export` allowed, # comments, values
// unquoted (trimmed, a ` #` starts a comment), 'single-quoted' (as written) or "double-quoted"
// (\n, \t, \", \\ escapes; $$ is a literal $). Unquoted and double-quoted values may use ${VAR} of lines above.
import { type Env, interpolate } from './interpolate.js';

export interface DotenvResult { values: Record<string, string>; errors: { line: number; message: string }[] }

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/;

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

export function parseDotenv(text: string, env: Env = {}): DotenvResult {
  const values: Record<string, string> = {};
  const errors: DotenvResult['errors'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*(#|$)/.test(raw)) return;
    const m = LINE.exec(raw);
    if (!m) return errors.push({ line: i + 1, message: 'expected KEY=VALUE' });
    const [, key, rest] = m as unknown as [string, string, string];
    const resolve = (s: string) => {
      const r = interpolate(s, { ...env, ...values });
      if (r.error) errors.push({ line: i + 1, message: r.error });
      return r.value;
    };
    const q = rest[0];
    if (q === "'" || q === '"') {
      const end = q === "'" ? rest.indexOf("'", 1) : /(?<!\\)"/.exec(rest.slice(1))?.index;
      const close = end === undefined || end < 0 ? -1 : q === "'" ? end : end + 1;
      if (close < 0) return errors.push({ line: i + 1, message: `unterminated ${q}` });
      const inner = rest.slice(1, close);
      values[key] = q === "'" ? inner : resolve(unescapeDouble(inner));
    } else {
      values[key] = resolve(rest.replace(/\s+#.*$/, '').trim());
    }
    return undefined;
  });
  return { values, errors };
}
