// zod's issues as berth says them: the key's path, what was expected and what was found, one
// line per unknown key with the closest known key, and for a value that may take several
// forms (a command as a string or a list) the problem inside the form that was meant.
import type { z } from 'zod/v4';
import type { Path, RawIssue } from './issues.js';

type Issue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  number: 'a number', int: 'a whole number', string: 'a string', boolean: 'true or false', object: 'a mapping (key: value)',
  array: 'a list', record: 'a mapping (key: value)', null: 'nothing (null)',
};

export function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

/** What a YAML value is, as a person would name it. */
export function kindOf(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)})`;
  return `${typeof v === 'number' ? 'the number' : typeof v} ${String(v)}`;
}

/** zod's own messages ("Invalid input: ...", "Too small: ...") are replaced; the schema's are kept. */
const isZodDefault = (m: string) => /^(Invalid|Too (small|big)|Unrecognized)/.test(m);

function sizeMessage(i: Extract<Issue, { code: 'too_small' | 'too_big' }>): string {
  const bound = i.code === 'too_small' ? i.minimum : i.maximum;
  const word = i.code === 'too_small' ? 'at least' : 'at most';
  if (i.origin === 'array') return `needs ${word} ${bound} entr${Number(bound) === 1 ? 'y' : 'ies'}`;
  if (i.origin === 'string') return Number(bound) === 1 && i.code === 'too_small' ? 'must not be empty' : `must be ${word} ${bound} characters`;
  return `must be ${word} ${bound}`;
}

/** The value is not of this form at all: the wrong type, or none of a nested union's forms. */
function wrongType(errs: Issue[]): boolean {
  const e = errs.length === 1 && errs[0]!.path.length === 0 ? errs[0]! : null;
  return e?.code === 'invalid_type' || (e?.code === 'invalid_union' && e.errors.every(wrongType));
}

/** The union's form that the value was meant to be: the one whose problems are not "this is not my type". */
function meantForm(i: Extract<Issue, { code: 'invalid_union' }>): Issue[] | null {
  const meant = i.errors.filter((errs) => !wrongType(errs));
  return meant.length === 1 ? meant[0]! : null;
}

function messageOf(i: Issue, raw: unknown, at: Path): string {
  const missing = (i.code === 'invalid_type' || i.code === 'invalid_union') && valueAt(raw, at) === undefined;
  if (missing) return 'is required';
  if (!isZodDefault(i.message)) return i.code === 'invalid_type' ? `${i.message}, got ${kindOf(valueAt(raw, at))}` : i.message;
  switch (i.code) {
    case 'invalid_type': return `expected ${EXPECTED[i.expected] ?? i.expected}, got ${kindOf(valueAt(raw, at))}`;
    case 'too_small': case 'too_big': return sizeMessage(i);
    case 'invalid_value': return `must be one of ${i.values.map((x) => JSON.stringify(x)).join(', ')}`;
    case 'invalid_format': return 'is not in the expected form';
    case 'invalid_key': return i.issues[0] && !isZodDefault(i.issues[0].message) ? i.issues[0].message : 'is not a valid name here';
    default: return i.message;
  }
}

/** Every zod issue as berth's, paths from the file's root (`base` when the value sat deeper). */
export function rawIssues(issues: Issue[], raw: unknown, file: string, base: Path = []): RawIssue[] {
  return issues.flatMap((i): RawIssue[] => {
    const at = [...base, ...i.path.map((k) => (typeof k === 'symbol' ? String(k) : k))];
    if (i.code === 'unrecognized_keys') {
      const lines = i.message.split('\n');
      return i.keys.map((k, n) => ({ file, at: [...at, k], message: lines.length === i.keys.length ? lines[n]! : 'unknown key' }));
    }
    if (i.code === 'invalid_union') {
      const meant = meantForm(i);
      if (meant) return rawIssues(meant, raw, file, at);
    }
    const hint = i.code === 'custom' ? (i.params as { hint?: string } | undefined)?.hint : undefined;
    return [{ file, at, message: messageOf(i, raw, at), ...(hint ? { hint } : {}) }];
  });
}
