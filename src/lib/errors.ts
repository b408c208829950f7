// A few error classes that carry data. The daemon maps them to HTTP statuses and the CLI to
// exit codes; `hint` is the fix we suggest to the user.

export type ErrorCode =
  | 'invalid' | 'not_found' | 'conflict' | 'lock_held' | 'unhealthy' | 'timeout'
  | 'command_failed' | 'aborted' | 'unavailable' | 'internal';

const statusOf: Record<ErrorCode, number> = {
  invalid: 400, not_found: 404, conflict: 409, lock_held: 423, unhealthy: 422, timeout: 504,
  command_failed: 500, aborted: 409, unavailable: 503, internal: 500,
};
const exitOf: Record<ErrorCode, number> = {
  invalid: 2, not_found: 3, conflict: 4, lock_held: 5, unhealthy: 6, timeout: 7,
  command_failed: 8, aborted: 9, unavailable: 10, internal: 1,
};

export class BerthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'BerthError';
  }
  get status(): number { return statusOf[this.code]; }
  get exitCode(): number { return exitOf[this.code]; }
  toJSON() {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
  static fromJSON(j: { code?: ErrorCode; message?: string; hint?: string; details?: Record<string, unknown> }): BerthError {
    return new BerthError(j.code && j.code in statusOf ? j.code : 'internal', j.message ?? 'unknown error', j.hint, j.details);
  }
}

export class ValidationError extends BerthError {
  constructor(readonly path: string, message: string, hint?: string) {
    super('invalid', `${path}: ${message}`, hint, { path });
  }
}

export class LockHeld extends BerthError {
  constructor(app: string, holder: { what: string; actor: string; startedAt: string }) {
    super('lock_held', `app ${app} is locked by ${holder.what} (${holder.actor}, started ${holder.startedAt})`,
      `wait with --lock-timeout 5m, or cancel a deploy with: berth deploy ${app} --abort`, holder);
  }
}

export class CommandFailed extends BerthError {
  constructor(readonly argv: string[], readonly exitStatus: number | null, readonly stderr: string) {
    super('command_failed', `${argv[0]} exited with ${exitStatus}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      undefined, { argv, exitStatus });
  }
}

/** Wraps any thrown value so callers can rely on BerthError. */
export function asBerthError(err: unknown): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as { message?: string };
  return new BerthError('internal', e?.message ?? String(err));
}
