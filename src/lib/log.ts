// Structured JSON logs (pino). Secrets are redacted by shape, wherever they sit: a field whose
// name says secret (password, secretKey, token, auth, credentials ...), whole env/config maps,
// and the password of any URL (scheme://user:password@host), in fields and in the message.
import pino from 'pino';

export type Logger = pino.Logger;

export const REDACTED = '[redacted]';
// logins and active: the passwords of an app's database logins and its current Redis password
const SECRET_KEY = /pass(word|wd)?$|passwords|secret|token|credential|^auth$|authorization|private.?key|api.?key|^env$|^config$|^logins$|^active$/i;
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):([^@\s/]+)@/gi;

/** The value with every secret replaced (pure; cycles and depth are bounded). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { message: redact(value.message), stack: redact(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1)]));
}

export function createLogger(opts: { level?: string; destination?: number | string } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.BERTH_LOG_LEVEL ?? 'info',
      base: { svc: 'berth' },
      formatters: { log: (obj) => redact(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // an Error logged on its own would give pino its message as the line's msg, unredacted
          const clean = args.map((a) => (typeof a === 'string' ? redact(a) : a instanceof Error ? { err: redact(a) } : a));
          if (args[0] instanceof Error && typeof args[1] !== 'string') clean.splice(1, 0, redact(args[0].message));
          method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    pino.destination({ dest: opts.destination ?? 1, sync: true }),
  );
}
