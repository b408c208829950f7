// Secrets at rest: AES-256-GCM with a 32-byte master key kept in a 0600 file. Values are
// stored as "v1:" + base64(iv | tag | ciphertext). A wrapped Secret never prints its value.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { BerthError } from './errors.js';

export class Cipher {
  private constructor(private readonly key: Buffer) {}

  /** Loads the key file, creating it (0600) on first use. */
  static fromKeyFile(path: string): Cipher {
    if (!existsSync(path)) writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    const key = readFileSync(path);
    if (key.length !== 32) throw new BerthError('internal', `key file ${path} is damaged (expected 32 bytes)`, 'restore it from a backup of the data root');
    return new Cipher(key);
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return 'v1:' + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  decrypt(stored: string): string {
    if (!stored.startsWith('v1:')) throw new BerthError('internal', 'unknown secret format');
    const raw = Buffer.from(stored.slice(3), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }

  encryptJSON(v: unknown): string { return this.encrypt(JSON.stringify(v)); }
  decryptJSON<T>(s: string): T { return JSON.parse(this.decrypt(s)) as T; }
}

export const REDACTED = '••••••';

/** Hides every value unless the caller asked to reveal them. */
export function redactValues(env: Record<string, string>, reveal: boolean): Record<string, string> {
  return reveal ? env : Object.fromEntries(Object.keys(env).map((k) => [k, REDACTED]));
}
