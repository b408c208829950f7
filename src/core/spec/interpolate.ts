// Compose's variable interpolation in a string: $VAR, ${VAR}, ${VAR:-default} (unset or empty),
// ${VAR-default} (unset), ${VAR:?message} / ${VAR?message} (required), ${VAR:+alt} / ${VAR+alt}
// (set), and $$ for a literal $. Defaults may hold variables themselves. Values come from the
// map given (the deploying user's env over the .env file beside the compose file), never from
// the process berth runs in.

export type Env = Readonly<Record<string, string | undefined>>;

export interface Interpolated {
  value: string;
  /** Variables used without a value and without a default: each became an empty string. */
  unset: string[];
  /** Set when a ${VAR:?message} had no value, or the syntax is broken. */
  error?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The index of the } that closes the ${ whose body starts at `from`, or -1. */
function closing(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') i++;
    else if (s[i] === '$' && s[i + 1] === '{') { depth++; i++; }
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** One ${...} body: NAME, then an operator and its word. */
function expand(body: string, env: Env, out: Interpolated): string {
  const name = NAME.exec(body)?.[0];
  if (!name) {
    out.error ??= `\${${body}} is not a variable (names are letters, digits and _, not starting with a digit)`;
    return '';
  }
  const rest = body.slice(name.length);
  const value = env[name];
  const set = value !== undefined;
  const nonEmpty = set && value !== '';
  const word = () => interpolateInto(rest.replace(/^:?[-?+]/, ''), env, out);
  if (rest === '') {
    if (!set) out.unset.push(name);
    return value ?? '';
  }
  switch (rest.startsWith(':') ? rest.slice(0, 2) : rest[0]) {
    case ':-': return nonEmpty ? value : word();
    case '-': return set ? value : word();
    case ':+': return nonEmpty ? word() : '';
    case '+': return set ? word() : '';
    case ':?': case '?': {
      if (rest.startsWith(':') ? nonEmpty : set) return value!;
      const message = word();
      out.error ??= `${name} is required${message ? `: ${message}` : ''} (set it in your environment or in .env beside the compose file)`;
      return '';
    }
    default:
      out.error ??= `\${${body}}: unexpected ${JSON.stringify(rest[0])} after ${name} (use \${${name}:-default})`;
      return '';
  }
}

function interpolateInto(s: string, env: Env, out: Interpolated): string {
  let r = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '$') { r += c; continue; }
    const next = s[i + 1];
    if (next === '$') { r += '$'; i++; continue; }
    if (next === '{') {
      const end = closing(s, i + 2);
      if (end < 0) {
        out.error ??= `\${ without a closing } (write $$ for a literal $)`;
        return r;
      }
      r += expand(s.slice(i + 2, end), env, out);
      i = end;
      continue;
    }
    const name = NAME.exec(s.slice(i + 1))?.[0];
    if (!name) { r += c; continue; } // a lone $ stays, as compose leaves it
    if (env[name] === undefined) out.unset.push(name);
    r += env[name] ?? '';
    i += name.length;
  }
  return r;
}

export function interpolate(s: string, env: Env): Interpolated {
  const out: Interpolated = { value: '', unset: [] };
  out.value = interpolateInto(s, env, out);
  return out;
}
