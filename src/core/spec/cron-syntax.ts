// Is a cron schedule well formed? croner, which the daemon schedules with, decides (with the
// daemon's own options, core/cron/pattern.ts), so what berth spec check accepts is what runs.
// Its messages are terse; for the common syntax a check of berth's own says what is wrong in
// words (field names and ranges), and croner's message is shown where it has none.
import { patternError } from '../cron/pattern.js';

const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']);
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Field { name: string; min: number; max: number; names?: string[]; namesFrom?: number; extra?: RegExp }
const SECOND: Field = { name: 'second', min: 0, max: 59 };
const FIVE: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  // ? means "any" (as in croner and Quartz); L is the month's last day
  { name: 'day of month', min: 1, max: 31, extra: /^[?L]$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0, extra: /^\?$/ },
];

function value(raw: string, f: Field): number | null {
  const i = f.names?.indexOf(raw.toUpperCase()) ?? -1;
  if (i >= 0) return i + f.namesFrom!;
  return /^[0-9]{1,2}$/.test(raw) ? Number(raw) : null;
}

function fieldError(part: string, f: Field): string | null {
  if (f.extra?.test(part)) return null;
  for (const item of part.split(',')) {
    const m = /^([^/]+)(?:\/([0-9]+))?$/.exec(item);
    if (!m) return `${f.name}: ${JSON.stringify(item)} is not a value, range or step`;
    if (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= f.max)) return `${f.name}: step ${m[2]} is out of range`;
    if (m[1] === '*') continue;
    const [from, to, more] = m[1]!.split('-');
    const a = value(from!, f);
    const b = to === undefined ? a : value(to, f);
    if (more !== undefined || a === null || b === null) return `${f.name}: ${JSON.stringify(m[1])} is not a number${f.names ? ' or a name' : ''}`;
    if (a < f.min || b > f.max) return `${f.name}: ${JSON.stringify(m[1])} is outside ${f.min}-${f.max}`;
    if (a > b) return `${f.name}: the range ${m[1]} runs backwards`;
  }
  return null;
}

/** Why `schedule` is not a cron schedule, or null when it is one (croner takes it). */
export function cronScheduleError(schedule: string): string | null {
  const refused = patternError(schedule.trim());
  return refused === null ? null : commonSyntaxError(schedule) ?? refused;
}

function commonSyntaxError(schedule: string): string | null {
  const s = schedule.trim();
  if (s.startsWith('@')) return NICKNAMES.has(s.toLowerCase()) ? null : `${s} is not one of ${[...NICKNAMES].join(', ')}`;
  const parts = s.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found ${parts.length}`;
  }
  const fields = parts.length === 6 ? [SECOND, ...FIVE] : FIVE;
  for (let i = 0; i < parts.length; i++) {
    const e = fieldError(parts[i]!, fields[i]!);
    if (e) return e;
  }
  return null;
}

/** Whether the runtime knows the IANA time zone (Node ships the full tz database). */
export function timezoneError(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return null;
  } catch (e) {
    if (e instanceof RangeError) return `${JSON.stringify(tz)} is not a time zone`;
    throw e;
  }
}
