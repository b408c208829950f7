// An app's description from its files, without touching the disk itself: berth.yml (with the
// compose file it names, if any) or a compose file alone, merged in layers, checked by the one
// schema, every problem traced back to the file and line that holds it.
import { posix } from 'node:path';
import { importCompose } from './compose/import.js';
import { parseDotenv } from './dotenv.js';
import type { Env } from './interpolate.js';
import { type Path, type RawIssue, type SpecIssue, toSpecIssue } from './issues.js';
import { type Layer, mergeLayers, traceBack } from './layers.js';
import { parseBerthDoc } from './parse.js';
import type { AppSpec } from './schema.js';
import { specWarnings } from './warnings.js';
import { readYaml, type YamlFile } from './yaml.js';

export type Checked =
  /** doc: the berth.yml document the files merge into, which the daemon parses again (from-body.ts) */
  | { ok: true; spec: AppSpec; doc: Record<string, unknown>; warnings: string[]; files: string[] }
  | { ok: false; issues: SpecIssue[]; warnings: string[]; files: string[] };

export interface SpecInput {
  /** The file to start from, relative to the app's directory: berth.yml or a compose file. */
  file: string;
  /** Read it as a compose file whatever its name (berth deploy --compose). */
  compose?: boolean;
  /** A file's text by its path relative to the app's directory; null when it does not exist. */
  readText(path: string): string | null;
  /** Variables for a compose file's ${VAR}: the deploying user's, over the .env beside it. */
  env?: Env;
}

export const isComposeName = (file: string) => /^(docker-)?compose(\.[\w-]+)?\.ya?ml$/.test(posix.basename(file));

function composeLayers(file: string, input: SpecInput, files: Map<string, YamlFile>, errors: RawIssue[], warnings: string[]): Layer[] {
  const text = input.readText(file);
  if (text === null) {
    errors.push({ file: 'berth.yml', at: ['compose'], message: `${file} does not exist` });
    return [];
  }
  const y = readYaml(text, file);
  files.set(file, y);
  if (y.errors.length) {
    errors.push(...y.errors);
    return [];
  }
  const dir = posix.dirname(file);
  const dotenvText = input.readText(posix.join(dir, '.env'));
  const dotenv = dotenvText === null ? { values: {}, errors: [] } : parseDotenv(dotenvText, input.env);
  for (const e of dotenv.errors) errors.push({ file: posix.join(dir, '.env'), at: [], message: `line ${e.line}: ${e.message}` });
  const r = importCompose(y.value as Record<string, unknown>, file, {
    env: { ...dotenv.values, ...input.env }, dir, readText: (p) => input.readText(posix.join(dir, p)),
  });
  errors.push(...r.findings.errors);
  warnings.push(...r.findings.warnings);
  return r.layers;
}

export function checkSpec(input: SpecInput): Checked {
  const file = posix.normalize(input.file);
  const files = new Map<string, YamlFile>();
  const errors: RawIssue[] = [];
  const warnings: string[] = [];
  const done = (): Checked => {
    const lineOf = (f: string, at: Path) => files.get(f)?.lineOf(at);
    const issues = errors.map((e) => toSpecIssue(e, lineOf)).sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
    return { ok: false, issues, warnings, files: [...files.keys()] };
  };
  const text = input.readText(file);
  if (text === null) return { ok: false, issues: [{ file, path: '', message: 'does not exist' }], warnings, files: [] };
  const main = readYaml(text, file);
  files.set(file, main);
  if (main.errors.length) return errors.push(...main.errors), done();
  const layers: Layer[] = [];
  if (input.compose || isComposeName(file)) {
    layers.push(...composeLayers(file, input, files, errors, warnings));
  } else {
    // x- keys at the top hold YAML anchors for the rest of the file, as in compose files
    const doc = Object.fromEntries(Object.entries(main.value as Record<string, unknown>).filter(([k]) => !k.startsWith('x-')));
    if (typeof doc.compose === 'string') layers.push(...composeLayers(posix.join(posix.dirname(file), doc.compose), input, files, errors, warnings));
    layers.push({ file, doc, toFile: (at) => at });
  }
  if (!layers.length) return done();
  const merged = mergeLayers(layers);
  const parsed = parseBerthDoc(merged, file);
  if (!parsed.ok) errors.push(...parsed.errors.map((e) => ({ ...e, ...traceBack(layers, e.at) })));
  if (errors.length || !parsed.ok) return done();
  return { ok: true, spec: parsed.spec, doc: merged as Record<string, unknown>, warnings: [...warnings, ...specWarnings(parsed.spec)],
    files: [...files.keys()] };
}
