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

export function fail(err: unknown, json: boolean): never {
  const e = asBerthError(err);
  if (json) process.stdout.write(JSON.stringify({ error: e.toJSON() }, null, 2) + '\n');
  process.stderr.write(`error: ${e.message}\n`);
  const logs = (e.details as { logs?: string[] } | undefined)?.logs;
  if (logs?.length) process.stderr.write(`last lines of the release's log:\n${logs.map((l) => `  | ${l}`).join('\n')}\n`);
  if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
  process.exit(e instanceof BerthError ? e.exitCode : 1);
}
