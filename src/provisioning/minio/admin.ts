// A client for the part of MinIO's admin API berth needs (users, canned policies, attaching a
// policy to a user), run by the services worker. Requests are SigV4-signed like S3 requests;
// bodies carrying secrets are encrypted with the administrator's secret key (see crypto.ts and
// docs/minio-admin.md).
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { encryptData } from './crypto.js';

export interface MinioAdmin { endpoint: string; region: string; accessKey: string; secretKey: string }

const PREFIX = '/minio/admin/v3';
const TIMEOUT_MS = 15_000;

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source) => typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** The hash SignatureV4 asks for, from node:crypto (HMAC when given a secret). */
export class Sha256 {
  private readonly h;
  constructor(secret?: Source) { this.h = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256'); }
  update(data: Source) { this.h.update(bytes(data)); }
  async digest() { return new Uint8Array(this.h.digest()); }
  reset() { /* one digest per instance */ }
}

export class MinioAdminError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

interface Call { method: 'GET' | 'PUT' | 'POST' | 'DELETE'; path: string; query?: Record<string, string>; body?: Buffer; encrypted?: boolean }

/** One signed admin call; returns the response body. Request bodies that carry secrets are
 *  encrypted (PBKDF2 variant, which every server accepts). Encrypted *responses* are never
 *  needed: a non-FIPS server encrypts them with argon2id, which Node 20 lacks. */
export async function adminCall(a: MinioAdmin, c: Call): Promise<Buffer> {
  const url = new URL(`${PREFIX}/${c.path}`, a.endpoint);
  for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
  const body = c.body && c.encrypted ? encryptData(a.secretKey, c.body) : c.body;
  // as for S3: the path is already percent-encoded once (URL did it) and is signed as it is
  const signer = new SignatureV4({ service: 's3', region: a.region, sha256: Sha256, uriEscapePath: false, credentials: { accessKeyId: a.accessKey, secretAccessKey: a.secretKey } });
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex') };
  // the attach API refuses an encrypted body without this type
  if (body) headers['content-type'] = c.encrypted ? 'application/octet-stream' : 'application/json';
  const signed = await signer.sign({
    method: c.method, protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined,
    path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body,
  });
  const res = await fetch(url, { method: c.method, headers: signed.headers, body: body ? new Uint8Array(body) : undefined, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const raw = Buffer.from(await res.arrayBuffer());
  if (!res.ok) {
    // MinIO answers errors as JSON {"Code": ..., "Message": ...}
    // (parsed whole: a real server's error, with its resource and request ids, runs past 300 characters)
    let code = `HTTP${res.status}`;
    let message = raw.toString('utf8').slice(0, 300);
    if (res.headers.get('content-type')?.includes('json')) {
      const e = JSON.parse(raw.toString('utf8')) as { Code?: string; Message?: string };
      code = e.Code ?? code;
      message = e.Message ?? message;
    }
    throw new MinioAdminError(res.status, code, `MinIO admin ${c.path}: ${code}: ${message}`);
  }
  return raw;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const isCode = (e: unknown, ...codes: string[]) => e instanceof MinioAdminError && codes.includes(e.code);

/** A user's policy and status (plain JSON); null when there is no such user. */
export async function userInfo(a: MinioAdmin, accessKey: string): Promise<{ policyName?: string; status?: string } | null> {
  try {
    return JSON.parse((await adminCall(a, { method: 'GET', path: 'user-info', query: { accessKey } })).toString('utf8'));
  } catch (e) {
    if (isCode(e, 'XMinioAdminNoSuchUser')) return null;
    throw e;
  }
}

export const addUser = (a: MinioAdmin, accessKey: string, secretKey: string) =>
  adminCall(a, { method: 'PUT', path: 'add-user', query: { accessKey }, body: json({ secretKey, status: 'enabled' }), encrypted: true });

export async function removeUser(a: MinioAdmin, accessKey: string): Promise<void> {
  await adminCall(a, { method: 'DELETE', path: 'remove-user', query: { accessKey } }).catch((e) => {
    if (!isCode(e, 'XMinioAdminNoSuchUser')) throw e;
  });
}

export const addPolicy = (a: MinioAdmin, name: string, policy: object) =>
  adminCall(a, { method: 'PUT', path: 'add-canned-policy', query: { name }, body: json(policy) });

export async function removePolicy(a: MinioAdmin, name: string): Promise<void> {
  await adminCall(a, { method: 'DELETE', path: 'remove-canned-policy', query: { name } }).catch((e) => {
    if (!isCode(e, 'XMinioAdminNoSuchPolicy')) throw e;
  });
}

/** Attaches a canned policy to a user: the builtin-IDP API of current servers, else (a server
 *  without that route answers "version mismatch") the older one. */
export async function attachPolicy(a: MinioAdmin, user: string, policy: string): Promise<void> {
  try {
    await adminCall(a, { method: 'POST', path: 'idp/builtin/policy/attach', body: json({ policies: [policy], user }), encrypted: true });
  } catch (e) {
    if (isCode(e, 'XMinioAdminPolicyChangeAlreadyApplied')) return;
    if (!isCode(e, 'XMinioAdminVersionMismatch', 'XMinioAdminNotImplemented') && !(e instanceof MinioAdminError && e.status === 404)) throw e;
    await adminCall(a, { method: 'PUT', path: 'set-user-or-group-policy', query: { policyName: policy, userOrGroup: user, isGroup: 'false' } });
  }
}
