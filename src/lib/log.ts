// Structured JSON logs (pino). Secrets are redacted by shape, wherever they sit: a field whose
// name says secret (password, secretKey, token, auth, credentials ...), whole env/config maps,
// and the password of any URL (scheme://user:password@host), in fields and in the message.
import pino from 'pino';
import { redact } from './redact.js';

export type Logger = pino.Logger;

export { REDACTED, redact } from './redact.js';

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
