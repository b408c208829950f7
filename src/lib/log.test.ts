import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, redact } from './log.js';

const SECRETS = ['pw-in-url', 'hunter2', 'S3CRETKEY', 'tok-123', 'old-pw', 'new-pw', 'env-secret', 'minio-secret'];

test('secrets are redacted by shape wherever they sit in a log line', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'berth-log-')), 'log.json');
  const log = createLogger({ destination: file });
  log.info({
    err: 'cannot reach postgres://app_shop_a:pw-in-url@berth-postgres:5432/app_shop',
    admin: { host: 'db', user: 'postgres', password: 'hunter2' },
    s3: { accessKey: 'app-shop-1', secretKey: 'S3CRETKEY', keys: [{ accessKey: 'k1', secretKey: 'minio-secret' }] },
    headers: { Authorization: 'Bearer tok-123' },
    grant: { passwords: ['old-pw', 'new-pw'] },
    env: { SMTP_PASSWORD: 'env-secret' },
  }, 'provisioning failed for redis://default:hunter2@redis:6379');
  log.error(new Error('dial postgres://u:pw-in-url@h/db'), 'boom');
  log.error(new Error('alone: redis://default:hunter2@redis:6379'));
  log.info({ grant: { logins: { a: 'old-pw', b: null }, active: 'new-pw' } }, 'a grant');
  const text = readFileSync(file, 'utf8');
  for (const s of SECRETS) assert.ok(!text.includes(s), `${s} leaked into the log: ${text}`);
  assert.match(text, /app-shop-1/, 'an access key id is not a secret and stays readable');
  assert.match(text, /postgres:\/\/app_shop_a:\[redacted\]@berth-postgres/);
});

test('redact keeps what is not a secret', () => {
  assert.deepEqual(redact({ app: 'a', n: 1, keys: ['A', 'B'], url: 'https://example.com/x' }),
    { app: 'a', n: 1, keys: ['A', 'B'], url: 'https://example.com/x' });
});

test('what lies deeper than redaction looks is left out, not shown as it is', () => {
  let deep: Record<string, unknown> = { password: 'hunter2', url: 'postgres://u:hunter2@db/x' };
  for (let i = 0; i < 12; i++) deep = { next: deep };
  assert.doesNotMatch(JSON.stringify(redact(deep)), /hunter2/);
});
