// The platform's backup key: an age X25519 identity, made once (age-keygen in berth/pg-tools)
// into <root>/state/backup.key (0600), its public half (the recipient every backup is encrypted
// to) beside it. Whoever holds the identity can read every backup, with Debian's age alone: the
// operator keeps a copy away from the server (berth backup key export), as a lost server takes
// this one with it.
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import type { Paths } from '../../state/paths.js';
import type { Ctx } from '../context.js';

export interface BackupKey { path: string; recipient: string }

export const backupKeyPath = (p: Pick<Paths, 'stateDir'>) => join(p.stateDir, 'backup.key');
const recipientPath = (p: Pick<Paths, 'stateDir'>) => `${backupKeyPath(p)}.pub`;
const KEYGEN_TIMEOUT_MS = 120_000;

/** The key, or null while none was made. */
export function backupKey(p: Pick<Paths, 'stateDir'>): BackupKey | null {
  if (!existsSync(backupKeyPath(p)) || !existsSync(recipientPath(p))) return null;
  return { path: backupKeyPath(p), recipient: readFileSync(recipientPath(p), 'utf8').trim() };
}

export function mustBackupKey(p: Pick<Paths, 'stateDir'>): BackupKey {
  const k = backupKey(p);
  if (!k) throw new BerthError('conflict', 'this platform has no backup key yet', 'run berth up (it makes one)');
  return k;
}

/** Makes the key unless there is one; says whether it made it. */
export async function ensureBackupKey(ctx: Ctx): Promise<BackupKey & { created: boolean }> {
  const have = backupKey(ctx.paths);
  if (have) return { ...have, created: false };
  if (existsSync(backupKeyPath(ctx.paths))) {
    throw new BerthError('conflict', `${recipientPath(ctx.paths)} is missing beside the backup key`, 'restore it from your copy of the data root');
  }
  const tmp = mkdtempSync(join(ctx.paths.stateDir, 'keygen-'));
  try {
    const r = await ctx.runtime.services.task('pg-tools', { name: 'backup-keygen', cmd: ['keygen'], outputDir: tmp }, { timeoutMs: KEYGEN_TIMEOUT_MS });
    const recipient = /^age1[0-9a-z]{50,}$/m.exec(r.output)?.[0];
    if (r.exitCode !== 0 || !recipient || !existsSync(join(tmp, 'backup.key'))) {
      throw new BerthError('command_failed', `making the backup key failed (exit ${r.exitCode}): ${r.output.trim().slice(-300)}`);
    }
    chmodSync(join(tmp, 'backup.key'), 0o600);
    writeFileSync(recipientPath(ctx.paths), `${recipient}\n`, { mode: 0o644 });
    renameSync(join(tmp, 'backup.key'), backupKeyPath(ctx.paths)); // last: the key exists only whole, with its recipient
    ctx.store.audit({ actor: 'berth', action: 'backup.key', app: null, result: 'created', detail: { recipient } });
    return { path: backupKeyPath(ctx.paths), recipient, created: true };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
