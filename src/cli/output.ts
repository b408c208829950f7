// How the CLI talks to people and scripts: results on stdout (a table or --json), progress
// and errors on stderr, exit codes from the error's kind.
import { BerthError, asBerthError } from '../lib/errors.js';

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const cells = rows.map((r) => columns.map((c) => {
    const v = r[c];
    return v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v);
  }));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

export function out(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(data, null, 2) : human()) + '\n');
}

export const progress = (line: string) => process.stderr.write(`${line}\n`);

/** An error as people read it on stderr (pure): the message, the log excerpt it carries (or that
 *  there was no output at all), the hint. */
export function errorText(e: BerthError): string {
  const lines = [`error: ${e.message}`];
  const { logs, log_of: logOf } = (e.details ?? {}) as { logs?: unknown; log_of?: string };
  if (Array.isArray(logs)) {
    const shown = logs.map(String).filter((l) => l.trim() !== '');
    const of = logOf ?? "the release's log";
    const none = logOf ? `${logOf} printed nothing` : 'the release wrote no output';
    lines.push(shown.length ? `last lines of ${of}:\n${shown.map((l) => `  | ${l}`).join('\n')}` : none);
  }
  if (e.hint) lines.push(`hint: ${e.hint}`);
  return lines.join('\n') + '\n';
}

export function fail(err: unknown, json: boolean): never {
  const e = asBerthError(err);
  if (json) process.stdout.write(JSON.stringify({ error: e.toJSON() }, null, 2) + '\n');
  process.stderr.write(errorText(e));
  process.exit(e instanceof BerthError ? e.exitCode : 1);
}
