// A berth.yml document (already read from YAML) to the model, or every problem in it.
import { rawIssues } from './format.js';
import type { RawIssue } from './issues.js';
import { type AppSpec, BerthFile } from './schema.js';

export type Parsed = { ok: true; spec: AppSpec } | { ok: false; errors: RawIssue[] };

export function parseBerthDoc(doc: unknown, file: string): Parsed {
  const r = BerthFile.safeParse(doc);
  return r.success ? { ok: true, spec: r.data } : { ok: false, errors: rawIssues(r.error.issues, doc, file) };
}
