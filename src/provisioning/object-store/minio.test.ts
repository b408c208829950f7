import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canManageUsers } from './minio.js';

/** An S3 endpoint whose admin API answers `status` with `body` (JSON when it is an object). */
async function endpoint(status: number, body: unknown) {
  const server = createServer((_req, res) => {
    const json = typeof body === 'object';
    res.writeHead(status, { 'content-type': json ? 'application/json' : 'application/xml' });
    res.end(json ? JSON.stringify(body) : String(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const admin = { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', accessKey: 'k', secretKey: 's' };
  return { admin, close: () => new Promise<void>((r) => server.close(() => r())) };
}

// The answer is recorded for good (a user per app, or one key for all): only an answer decides it.
test('MinIO is told by its answer; no answer or a server error is an error, never "cannot manage users"', async () => {
  const cases: [number, unknown, boolean | 'throws'][] = [
    [404, { Code: 'XMinioAdminNoSuchUser', Message: 'The specified user does not exist.' }, true],
    [403, '<Error><Code>AccessDenied</Code></Error>', false],
    [404, '<Error><Code>NoSuchBucket</Code></Error>', false],
    [501, '<Error><Code>NotImplemented</Code></Error>', false],
    [503, '<Error><Code>SlowDown</Code></Error>', 'throws'],
    [500, { Code: 'InternalError', Message: 'We encountered an internal error.' }, 'throws'],
  ];
  for (const [status, body, want] of cases) {
    const e = await endpoint(status, body);
    try {
      if (want === 'throws') await assert.rejects(canManageUsers(e.admin), `${status} decided it`);
      else assert.equal(await canManageUsers(e.admin), want, `${status} ${JSON.stringify(body)}`);
    } finally {
      await e.close();
    }
  }
  const gone = await endpoint(200, {});
  await gone.close(); // nothing listens there now
  await assert.rejects(canManageUsers(gone.admin), 'a refused connection decided it');
});
