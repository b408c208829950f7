// Structured JSON logs (pino). Anything that looks like a secret is redacted by key.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(opts: { level?: string; destination?: number | string } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.BERTH_LOG_LEVEL ?? 'info',
      base: { svc: 'berth' },
      redact: { paths: ['*.env', '*.password', '*.token', '*.auth', 'env', 'password', 'token', 'auth', '*.config'], censor: '[redacted]' },
    },
    pino.destination(opts.destination ?? 1),
  );
}
