// Presigned URLs as an app makes them for browsers (with its own key), and a browser's GET of
// one through a platform's Caddy (127.0.0.1, with the URL's SNI and Host).
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/provisioning/minio/admin.js';
import type { Platform } from './platform.js';

export async function presignGet(endpoint: string, key: { S3_ACCESS_KEY: string; S3_SECRET_KEY: string }, path: string, region: string): Promise<string> {
  const u = new URL(endpoint);
  const signer = new SignatureV4({ service: 's3', region, sha256: Sha256, uriEscapePath: false,
    credentials: { accessKeyId: key.S3_ACCESS_KEY, secretAccessKey: key.S3_SECRET_KEY } });
  // as S3 presigners do: the payload is UNSIGNED-PAYLOAD (our old MinIO fake accepted an empty body's hash; real servers do not)
  const r = await signer.presign({ method: 'GET', protocol: 'https:', hostname: u.hostname, port: Number(u.port), path, query: {},
    headers: { host: u.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, { expiresIn: 300, unsignableHeaders: new Set(['x-amz-content-sha256']) });
  return `${endpoint}${path}?${new URLSearchParams(r.query as Record<string, string>)}`;
}

export function browserGetVia(p: Platform, url: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = httpsRequest({ host: '127.0.0.1', port: Number(u.port), path: `${u.pathname}${u.search}`, servername: u.hostname, headers: { host: u.host }, ca: p.caRoot },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => { body += d; });
        r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      });
    req.on('error', rej);
    req.end();
  });
}
