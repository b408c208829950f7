// The daemon's side of a deploy with an app description: the CLI reads the files (with the
// user's env for interpolation) and sends the merged berth.yml document; the daemon checks it
// again with the same schema, since what reaches its socket is input like any other.
import { SpecInvalid, toSpecIssue } from './issues.js';
import { parseBerthDoc } from './parse.js';
import type { AppSpec } from './schema.js';

export function specFromBody(doc: unknown, file = 'berth.yml'): AppSpec {
  const r = parseBerthDoc(doc, file);
  if (!r.ok) throw new SpecInvalid(r.errors.map((e) => toSpecIssue(e, () => undefined)), []);
  return r.spec;
}
