// Cron schedules through croner, the one parser: `berth spec check` and the scheduler use the
// same options, so what the check accepts is what runs. Loaded only where schedules are read
// (a spec check, a daemon with cron jobs): the daemon at rest does without it.
import { Cron } from 'croner';

/** Five fields (minute first) or six (seconds first); nicknames like @daily. */
const OPTIONS = { mode: '5-or-6-parts', paused: true } as const;

export type Schedule = Cron;

// UTC, the default of every schedule, as a fixed offset: a time zone by name goes through
// Intl.DateTimeFormat, which maps ICU's zone data into the daemon for good (+6 MB resident, measured).
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Etc/Universal', 'Etc/Zulu']);

export function compile(schedule: string, timezone: string): Schedule {
  return new Cron(schedule, UTC_NAMES.has(timezone) ? { ...OPTIONS, utcOffset: 0 } : { ...OPTIONS, timezone });
}

/** Why croner refuses a schedule, or null when it takes it. */
export function patternError(schedule: string): string | null {
  try {
    new Cron(schedule, OPTIONS);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^CronPattern: /, '');
  }
}

export function nextSlot(s: Schedule, after: Date): Date | null {
  return s.nextRun(after);
}

/** The last slot due at or before `now`, looking back no further than `windowMs`. */
export function lastDue(s: Schedule, now: Date, windowMs: number): Date | null {
  let last: Date | null = null;
  let t = new Date(now.getTime() - windowMs - 1);
  for (let i = 0; i < 100_000; i++) {
    const n = s.nextRun(t);
    if (!n || n.getTime() > now.getTime()) break;
    last = n;
    t = n;
  }
  return last;
}
