// The rules of backups, pure: file names, and what a verification's output says about a backup.
import type { VerifyState } from '../../state/backups.js';

/** A backup's file under <root>/backups/APP/: its time and a random part, never user text. */
export function backupFileName(at: Date, suffix: string): string {
  return `${at.toISOString().replace(/[:.]/g, '-')}-${suffix}.dump.age`;
}

/** The database a restore moves an app to: its database's name and the time (PostgreSQL's 63
 *  bytes at most, the time kept whole). */
export function restoredDbName(db: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${db.slice(0, 63 - stamp.length - 2)}_r${stamp}`;
}

/** Scratch databases of verifications: berth's own prefix, never an app's name. */
export const SCRATCH_PREFIX = 'berth_verify_';

export interface Verdict { state: VerifyState; detail: string; tables: number; rows: number }

/** Row counts per table in a verify task's section (`schema.table<TAB>count` lines). */
export function countsOf(section: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of section.split('\n')) {
    const tab = line.lastIndexOf('\t');
    if (tab > 0 && /^\d+$/.test(line.slice(tab + 1).trim())) out.set(line.slice(0, tab), Number(line.slice(tab + 1)));
  }
  return out;
}

/** What a verify task's output and exit code say (pg-tools.sh verify): a file age cannot open is
 *  damaged or for another key; one that does not restore, or fails amcheck, failed; one whose
 *  tables' row counts differ from what the dump holds failed; else ok. */
export function verdictOf(output: string, exitCode: number): Verdict {
  const none = { tables: 0, rows: 0 };
  const age = /age: error: (.*)/.exec(output)?.[1]?.trim();
  if (age?.includes('no identity matched')) return { state: 'wrong_key', detail: `made for another backup key (age: ${age})`, ...none };
  if (age) return { state: 'damaged', detail: `the file is damaged: truncated or changed (age: ${age})`, ...none };
  const at = (marker: string) => output.indexOf(`berth: ${marker}\n`);
  if (exitCode !== 0 || at('end') < 0) {
    const step = at('restored') < 0 ? 'pg_restore' : at('checked') < 0 ? 'pg_amcheck' : 'counting the rows';
    return { state: 'failed', detail: `${step} failed (exit ${exitCode}): ${lastLines(output, 6)}`, ...none };
  }
  const dumped = countsOf(output.slice(at('dump counts'), at('restored counts')));
  const restored = countsOf(output.slice(at('restored counts'), at('end')));
  const wrong = [...dumped].filter(([t, n]) => restored.get(t) !== n)
    .map(([t, n]) => `${t}: ${n} rows in the dump, ${restored.has(t) ? restored.get(t) : 'no such table'} restored`);
  const rows = [...dumped.values()].reduce((a, b) => a + b, 0);
  if (wrong.length) return { state: 'failed', detail: `the restored copy differs from the dump: ${wrong.slice(0, 5).join('; ')}`, tables: dumped.size, rows };
  return { state: 'ok', detail: `restored, pg_amcheck found no corruption, ${dumped.size} tables with ${rows} rows as the dump holds`, tables: dumped.size, rows };
}

function lastLines(s: string, n: number): string {
  return s.trim().split('\n').filter((l) => !l.startsWith('berth: ')).slice(-n).join(' | ');
}
