// The notification channel (berth notify webhook URL): failed, unverified and stale backups are
// incidents; each is POSTed once when it opens and once when it clears (a Slack-compatible JSON
// body). The URL (a Slack hook holds a token) is encrypted in berth's state.
import { hostname } from 'node:os';
import { httpsRequest, request } from '../../lib/node-http.js';
import { BerthError, ValidationError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import { backupStatus, platformBackupStatus } from '../backups/status.js';
import { changes, type Incident, payload } from './incidents.js';

const WEBHOOK = 'notify.webhook';
const POST_TIMEOUT_MS = 10_000;

export function webhookOf(ctx: Ctx): string | null {
  const enc = ctx.store.meta(WEBHOOK);
  return enc ? ctx.cipher.decrypt(enc) : null;
}

export function setWebhook(ctx: Ctx, url: string | null, actor: string): { webhook: string | null } {
  if (url !== null) {
    let u: URL;
    try { u = new URL(url); } catch { throw new ValidationError('url', `${JSON.stringify(url)} is not a URL`, 'e.g. https://hooks.slack.com/services/...'); }
    if (!['http:', 'https:'].includes(u.protocol)) throw new ValidationError('url', 'must be http:// or https://');
  }
  ctx.store.setMeta(WEBHOOK, url === null ? null : ctx.cipher.encrypt(url));
  ctx.store.audit({ actor, action: 'notify.webhook', app: null, result: url === null ? 'removed' : 'set', detail: { host: url && new URL(url).host } });
  return { webhook: url === null ? null : redacted(url) };
}

/** The URL as shown: its origin only (a hook's path is its secret). */
export const redacted = (url: string) => `${new URL(url).origin}/…`;

/** What is wrong now, as incidents: each app's failed or stale backups. */
export function currentIncidents(ctx: Ctx): Incident[] {
  const out: Incident[] = [];
  for (const a of ctx.store.listApps()) {
    const b = backupStatus(ctx, a.name);
    if (b && (b.state === 'failed' || b.state === 'stale')) out.push({ key: `backup ${a.name}`, detail: `backups of ${a.name} ${b.state}: ${b.detail}` });
  }
  for (const [what, h] of Object.entries(platformBackupStatus(ctx))) {
    if (h && (h.state === 'failed' || h.state === 'stale')) out.push({ key: `backup ${what}`, detail: `the ${what} backup ${h.state}: ${h.detail}` });
  }
  return out;
}

/** One pass: tells the channel what opened and cleared since the last pass (none without a channel). */
export async function notifyPass(ctx: Ctx): Promise<{ opened: string[]; cleared: string[] }> {
  const url = webhookOf(ctx);
  if (!url) return { opened: [], cleared: [] };
  const c = changes(currentIncidents(ctx), ctx.store.incidents());
  for (const i of c.opened) {
    await post(url, payload('opened', i, hostname()));
    ctx.store.openIncident(i.key, i.detail);
  }
  for (const i of c.cleared) {
    await post(url, payload('cleared', i, hostname()));
    ctx.store.closeIncident(i.key);
  }
  return { opened: c.opened.map((i) => i.key), cleared: c.cleared.map((i) => i.key) };
}

/** POSTs JSON. Not fetch(): the daemon runs --jitless, without WebAssembly, which fetch's parser needs. */
export function post(url: string, body: object): Promise<void> {
  const u = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? httpsRequest : request)(u, {
      method: 'POST', timeout: POST_TIMEOUT_MS, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      res.resume();
      if ((res.statusCode ?? 500) < 300) resolve();
      else reject(new BerthError('unavailable', `the webhook answered ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${POST_TIMEOUT_MS / 1000}s`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new BerthError('unavailable', `the webhook did not answer: ${e.code ?? e.message}`)));
    req.end(payload);
  });
}
