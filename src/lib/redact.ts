// Secrets redacted by shape, wherever they sit: a field whose name says secret (password,
// secretKey, token, auth, credentials ...), whole env/config maps, and the password of any URL
// (scheme://user:password@host). Pure, and free of the logger: the services worker uses it too.

export const REDACTED = '[redacted]';
// logins and active: the passwords of an app's database logins and its current Redis password
const SECRET_KEY = /pass(word|wd)?$|passwords|secret|token|credential|^auth$|authorization|private.?key|api.?key|^env$|^config$|^logins$|^active$/i;
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):([^@\s/]+)@/gi;

/** The value with every secret replaced (pure; depth is bounded, and what lies past it is left out). */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  if (value === null || typeof value !== 'object') return value;
  // deeper than any record berth logs: not looked through, so not shown (it could hold a secret)
  if (depth > 8) return REDACTED;
  if (value instanceof Error) return { message: redact(value.message), stack: redact(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1)]));
}
