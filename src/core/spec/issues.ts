// Problems found in an app's files, each with the file and the path of the key it is about, so
// that every one can be fixed without guessing; all of them are collected, not only the first.
import { BerthError } from '../../lib/errors.js';

export type Path = readonly (string | number)[];

export interface SpecIssue {
  /** The file as the user named it (berth.yml, docker-compose.yml, ...). */
  file: string;
  /** Dotted path of the key: processes.web.port; '' for the whole file. */
  path: string;
  message: string;
  hint?: string;
  /** 1-based line in the file, where known. */
  line?: number;
}

export const joinPath = (p: Path): string => p.map(String).join('.');

/** An issue while it is still being worked on: its path as keys, so that it can be traced back
 *  to the file it came from (compose/origins.ts) and to its line. */
export interface RawIssue { file: string; at: Path; message: string; hint?: string; line?: number }

export function toSpecIssue(r: RawIssue, lineOf: (file: string, at: Path) => number | undefined): SpecIssue {
  const line = r.line ?? lineOf(r.file, r.at);
  return { file: r.file, path: joinPath(r.at), message: r.message, ...(r.hint ? { hint: r.hint } : {}), ...(line ? { line } : {}) };
}

/** `berth.yml:4: processes.web.port: expected ...`, and the hint on a line of its own. */
export function issueText(i: SpecIssue, indent = ''): string {
  const where = `${i.file}${i.line ? `:${i.line}` : ''}`;
  return `${indent}${where}: ${i.path ? `${i.path}: ` : ''}${i.message}${i.hint ? `\n${indent}    hint: ${i.hint}` : ''}`;
}

/** A warning as shown: `services.app.privileged: not supported, ignored`. */
export function warningText(path: string, message: string): string {
  return path ? `${path}: ${message}` : message;
}

/** Errors and warnings met along the way, in the order found. */
export class Findings {
  readonly errors: RawIssue[] = [];
  readonly warnings: string[] = [];
  constructor(readonly file: string) {}
  error(at: Path, message: string, hint?: string): void {
    this.errors.push({ file: this.file, at, message, ...(hint ? { hint } : {}) });
  }
  warn(at: Path, message: string): void {
    this.warnings.push(warningText(joinPath(at), message));
  }
}

/** The spec's problems as one error: exit status 2 (invalid input) on the command line. */
export class SpecInvalid extends BerthError {
  constructor(readonly issues: SpecIssue[], readonly warnings: string[]) {
    const files = [...new Set(issues.map((i) => i.file))].join(', ');
    super('invalid', `${files}: ${issues.length === 1 ? '1 problem' : `${issues.length} problems`}\n${issues.map((i) => issueText(i, '  ')).join('\n')}`,
      `fix ${issues.length === 1 ? 'it' : 'them'} and run berth spec check again`, { issues, warnings });
  }
}
