// A stand-in for MinIO, used only because MinIO cannot run here (no registry, not in Debian).
// It is OUR fake, so it proves only what it checks: that berth's admin calls are well formed on
// the wire, as docs/minio-admin.md describes MinIO's API — every request SigV4-verified against
// the caller's secret (and the body against x-amz-content-sha256), secret-bearing bodies
// encrypted with the administrator's secret key (decrypted here with the code that the unit
// tests check against Go-made vectors), the attach API's content type — and it keeps the users
// and canned policies berth made. S3 requests are checked the same way, then a user's request is
// allowed only on buckets its attached policies name (a simplified policy evaluation: resources
// only, not actions), and passed on to a real S3 protocol server (s3rver).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/provisioning/minio/admin.js';
import { decryptData, encryptData } from '../../src/provisioning/minio/crypto.js';

const S3RVER_KEY = 'S3RVER';

export interface FakeUser { secretKey: string; status: string; policies: string[] }
interface Statement { Effect: string; Action: string[]; Resource: string[] }

export class FakeMinio {
  readonly users = new Map<string, FakeUser>();
  readonly policies = new Map<string, { Statement: Statement[] }>();
  /** Every admin call, as "METHOD path" (for assertions on what berth did). */
  readonly calls: string[] = [];
  /** Requests refused, with the reason (signature, policy ...). */
  readonly refused: string[] = [];
  private server?: Server;

  constructor(public rootUser: string, public rootSecret: string, readonly upstream: { host: string; port: number }) {}

  async listen(host: string, port: number): Promise<void> {
    this.server = createServer((req, res) => { this.handle(req, res).catch((e) => this.error(res, 500, 'InternalError', String(e))); });
    await new Promise<void>((r) => this.server!.listen(port, host, r));
  }

  close(): Promise<void> {
    return new Promise((r) => this.server ? this.server.close(() => r()) : r());
  }

  /** Errors as MinIO gives them: JSON from the admin API, XML from S3. */
  private error(res: ServerResponse, status: number, code: string, message: string, xml = false): void {
    if (res.headersSent) return;
    if (xml) res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ Code: code, Message: message }));
  }

  private secretOf(accessKey: string): string | undefined {
    if (accessKey === this.rootUser) return this.rootSecret;
    const u = this.users.get(accessKey);
    return u?.status === 'enabled' ? u.secretKey : undefined;
  }

  /** A presigned URL (signature in the query, as browsers use them): recompute it likewise. */
  private async verifyPresigned(req: IncomingMessage, url: URL): Promise<string> {
    const q = url.searchParams;
    const [accessKey = '', , region = ''] = (q.get('X-Amz-Credential') ?? '').split('/');
    const secret = this.secretOf(accessKey);
    if (!secret) throw new Refusal(403, 'InvalidAccessKeyId', `unknown or disabled access key ${accessKey}`);
    const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    if (!d) throw new Refusal(403, 'AccessDenied', 'no X-Amz-Date');
    const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
    const expiresIn = Number(q.get('X-Amz-Expires'));
    if (signingDate.getTime() + expiresIn * 1000 < Date.now()) throw new Refusal(403, 'AccessDenied', 'Request has expired');
    const headers: Record<string, string> = {};
    for (const h of (q.get('X-Amz-SignedHeaders') ?? 'host').split(';')) headers[h] = String(req.headers[h] ?? '');
    const query: Record<string, string> = {};
    for (const [k, v] of q) if (!/^X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature)$/.test(k)) query[k] = v;
    const signer = new SignatureV4({ service: 's3', region, sha256: Sha256, credentials: { accessKeyId: accessKey, secretAccessKey: secret }, uriEscapePath: false });
    const signed = await signer.presign({ method: req.method!, protocol: 'https:', hostname: url.hostname, path: url.pathname, query, headers }, { signingDate, expiresIn });
    if (signed.query?.['X-Amz-Signature'] !== q.get('X-Amz-Signature')) throw new Refusal(403, 'SignatureDoesNotMatch', `bad presigned signature from ${accessKey}`);
    return accessKey;
  }

  /** SigV4 as a server checks it: recompute the signature from what arrived. Returns the caller. */
  private async verify(req: IncomingMessage, url: URL, body: Buffer): Promise<string> {
    if (!req.headers.authorization && url.searchParams.has('X-Amz-Signature')) return this.verifyPresigned(req, url);
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]*)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(String(req.headers.authorization ?? ''));
    if (!m) throw new Refusal(403, 'AccessDenied', 'no SigV4 authorization');
    const [, accessKey, region, signedHeaders, signature] = m as unknown as [string, string, string, string, string];
    const secret = this.secretOf(accessKey);
    if (!secret) throw new Refusal(403, 'InvalidAccessKeyId', `unknown or disabled access key ${accessKey}`);
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? '');
    if (!payloadHash) throw new Refusal(400, 'MissingSecurityHeader', 'x-amz-content-sha256 is required');
    if (/^[0-9a-f]{64}$/.test(payloadHash) && createHash('sha256').update(body).digest('hex') !== payloadHash) {
      throw new Refusal(400, 'XAmzContentSHA256Mismatch', 'the body does not match x-amz-content-sha256');
    }
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!d) throw new Refusal(403, 'AccessDenied', 'no x-amz-date');
    const signingDate = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
    const headers: Record<string, string> = {};
    for (const h of signedHeaders.split(';')) headers[h] = String(req.headers[h] ?? '');
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? [...[query[k]!].flat(), v] : v;
    const signer = new SignatureV4({ service: 's3', region, sha256: Sha256, credentials: { accessKeyId: accessKey, secretAccessKey: secret }, uriEscapePath: false });
    const signed = await signer.sign({ method: req.method!, protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers, body }, { signingDate });
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
    if (expected !== signature) throw new Refusal(403, 'SignatureDoesNotMatch', `bad signature from ${accessKey}`);
    return accessKey;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    // MinIO's unauthenticated health endpoints (its image's health check asks them)
    if (url.pathname === '/minio/health/live' || url.pathname === '/minio/health/ready') return void res.writeHead(200).end();
    let caller: string;
    try {
      caller = await this.verify(req, url, body);
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      this.refused.push(`${req.method} ${url.pathname}: ${e.code}`);
      return this.error(res, e.status, e.code, e.message, !url.pathname.startsWith('/minio/admin/'));
    }
    if (url.pathname.startsWith('/minio/admin/')) {
      if (caller !== this.rootUser) return this.error(res, 403, 'AccessDenied', 'admin API: root only');
      return this.admin(req, res, url, body);
    }
    if (caller !== this.rootUser && !this.allowed(caller, url.pathname)) {
      this.refused.push(`${req.method} ${url.pathname}: AccessDenied for ${caller}`);
      return this.error(res, 403, 'AccessDenied', 'Access Denied.', true);
    }
    // s3rver knows one access key id (and checks no signature): present the request as its
    // path-style, as MinIO without MINIO_DOMAIN (s3rver would take a named host for a bucket)
    const headers = { ...req.headers, host: `${this.upstream.host}:${this.upstream.port}` };
    if (headers.authorization) headers.authorization = headers.authorization.replace(/Credential=[^/]+\//, `Credential=${S3RVER_KEY}/`);
    const path = req.url!.replace(/([?&]X-Amz-Credential=)[^%&]+/, `$1${S3RVER_KEY}`);
    const up = request({ host: this.upstream.host, port: this.upstream.port, method: req.method, path, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => this.error(res, 502, 'BadGateway', e.message));
    up.end(body);
  }

  /** Whether any policy attached to the user names this bucket (or object) as a resource. */
  private allowed(user: string, path: string): boolean {
    const [bucket, ...key] = path.replace(/^\//, '').split('/');
    if (!bucket) return false; // ListBuckets: not granted by berth's policies
    const arn = key.length && key.join('/') ? `arn:aws:s3:::${bucket}/${key.join('/')}` : `arn:aws:s3:::${bucket}`;
    const match = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(arn);
    return this.users.get(user)!.policies.some((p) => this.policies.get(p)?.Statement.some((s) => s.Effect === 'Allow' && s.Resource.some(match)));
  }

  private admin(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): void {
    const route = url.pathname.slice('/minio/admin/v3/'.length);
    const q = (k: string) => url.searchParams.get(k) ?? '';
    this.calls.push(`${req.method} ${route}${url.search}`);
    const ok = (out: Buffer | string = '') => { res.writeHead(200).end(out); };
    const secretJson = () => JSON.parse(decryptData(this.rootSecret, body).toString('utf8'));
    switch (`${req.method} ${route}`) {
      case 'PUT add-user': {
        const { secretKey, status } = secretJson() as { secretKey: string; status: string };
        if (q('accessKey').length < 3 || /[=,]/.test(q('accessKey')) || secretKey.length < 8) return this.error(res, 400, 'XMinioAdminInvalidArgument', 'bad user');
        const prev = this.users.get(q('accessKey'));
        this.users.set(q('accessKey'), { secretKey, status: status === 'enabled' ? 'enabled' : 'disabled', policies: prev?.policies ?? [] });
        return ok();
      }
      case 'DELETE remove-user':
        if (!this.users.delete(q('accessKey'))) return this.error(res, 404, 'XMinioAdminNoSuchUser', 'The specified user does not exist.');
        return ok();
      case 'GET user-info': {
        const u = this.users.get(q('accessKey'));
        if (!u) return this.error(res, 404, 'XMinioAdminNoSuchUser', 'The specified user does not exist.');
        return ok(JSON.stringify({ policyName: u.policies.join(','), status: u.status }));
      }
      case 'PUT add-canned-policy': {
        const doc = JSON.parse(body.toString('utf8')) as { Version?: string; Statement: Statement[] };
        if (!doc.Version) return this.error(res, 400, 'XMinioMalformedJSON', 'policy has no Version');
        this.policies.set(q('name'), doc);
        return ok();
      }
      case 'DELETE remove-canned-policy':
        if (!this.policies.delete(q('name'))) return this.error(res, 404, 'XMinioAdminNoSuchPolicy', 'The canned policy does not exist.');
        return ok();
      case 'POST idp/builtin/policy/attach': {
        if (req.headers['content-type'] !== 'application/octet-stream') return this.error(res, 400, 'BadRequest', 'Content-Type must be application/octet-stream');
        const { policies, user } = secretJson() as { policies: string[]; user: string };
        const u = this.users.get(user);
        if (!u) return this.error(res, 404, 'XMinioAdminNoSuchUser', 'The specified user does not exist.');
        const missing = policies.find((p) => !this.policies.has(p));
        if (missing) return this.error(res, 404, 'XMinioAdminNoSuchPolicy', `no policy ${missing}`);
        const fresh = policies.filter((p) => !u.policies.includes(p));
        if (!fresh.length) return this.error(res, 400, 'XMinioAdminPolicyChangeAlreadyApplied', 'The specified policy change is already in effect.');
        u.policies.push(...fresh);
        // a real server encrypts this reply with argon2id; berth does not read it
        return ok(encryptData(this.rootSecret, Buffer.from(JSON.stringify({ policiesAttached: fresh }))));
      }
      default:
        return this.error(res, 426, 'XMinioAdminVersionMismatch', `no admin API ${route}`);
    }
  }
}

class Refusal extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}
