// What the Caddy config builders need from berth's settings, with paths as the proxy container
// sees them (its admin socket and the ACME CA root are mounted there).
import type { Settings } from '../../state/settings.js';
import type { BaseInput } from './config.js';

export const CADDY_ADMIN_IN_CONTAINER = '/run/caddy/admin.sock';
export const ACME_ROOT_IN_CONTAINER = '/etc/berth/acme-ca.pem';

/** What the proxy's config builders need from the settings (paths as seen inside the container). */
export function caddyBase(s: Settings): BaseInput {
  return {
    adminSocket: CADDY_ADMIN_IN_CONTAINER, httpPort: s.http_port, httpsPort: s.https_port,
    acmeEmail: s.acme_email, acmeCa: s.acme_ca, acmeCaRoot: s.acme_ca_root ? ACME_ROOT_IN_CONTAINER : undefined,
    refreshMs: s.upstream_refresh_ms, streamCloseDelayMs: s.stream_close_delay_ms, drainMs: s.route_drain_ms,
  };
}
