// The Caddy container: image (pulled, or built from Debian's package), and its spec.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../exec/run.js';
import type { EngineApi } from '../runtime/docker/engine-api.js';
import { LABEL, type Names } from '../runtime/docker/specs.js';
import { buildScratchImage, havePulled, imageExists } from './images.js';
import type { Paths, Settings } from './settings.js';

export const LOCAL_CADDY_IMAGE = 'berth/caddy:2.6.2-debian';
export const CADDY_ADMIN_IN_CONTAINER = '/run/caddy/admin.sock';
export const ACME_ROOT_IN_CONTAINER = '/etc/berth/acme-ca.pem';
export const proxyContainerName = (n: Names) => `${n.instance}-caddy`;

/** Debian's caddy binary: the host's if the package is installed, else unpacked from the .deb. */
async function debianCaddy(progress: (l: string) => void): Promise<string> {
  if (existsSync('/usr/bin/caddy')) return '/usr/bin/caddy';
  const dir = mkdtempSync(join(tmpdir(), 'berth-caddy-deb-'));
  progress('downloading Debian package caddy');
  await run(['apt-get', 'download', 'caddy'], { cwd: dir, timeoutMs: 5 * 60_000 }).catch(async () => {
    await run(['apt-get', 'update'], { timeoutMs: 5 * 60_000 });
    await run(['apt-get', 'download', 'caddy'], { cwd: dir, timeoutMs: 5 * 60_000 });
  });
  const deb = readdirSync(dir).find((f) => f.endsWith('.deb'))!;
  await run(['dpkg-deb', '-x', join(dir, deb), join(dir, 'root')]);
  return join(dir, 'root', 'usr', 'bin', 'caddy');
}

/** The proxy image to run: the pinned upstream tag if present or pullable, else a local build. */
export async function ensureCaddyImage(api: EngineApi, settings: Settings, progress: (l: string) => void): Promise<string> {
  if (await imageExists(api, settings.caddy_image)) return settings.caddy_image;
  if (await imageExists(api, LOCAL_CADDY_IMAGE)) return LOCAL_CADDY_IMAGE;
  if (await havePulled(api, settings.caddy_image, progress)) return settings.caddy_image;
  progress(`cannot pull ${settings.caddy_image} (offline?): building ${LOCAL_CADDY_IMAGE} from Debian's caddy package`);
  const caddy = await debianCaddy(progress);
  await buildScratchImage(api, {
    tag: LOCAL_CADDY_IMAGE,
    programs: [{ from: caddy, to: '/usr/bin/caddy' }],
    files: [{ from: '/etc/ssl/certs/ca-certificates.crt', to: '/etc/ssl/certs/ca-certificates.crt' },
      { content: 'root:x:0:0:root:/root:/sbin/nologin\n', to: '/etc/passwd' },
      { content: 'hosts: files dns\n', to: '/etc/nsswitch.conf' }],
    dirs: ['/tmp', '/config', '/data'],
    dockerfileTail: ['ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data', 'CMD ["/usr/bin/caddy","run","--config","/config/caddy.json"]'],
    labels: { 'berth.source': 'debian caddy package' },
  }, progress);
  return LOCAL_CADDY_IMAGE;
}

/** Body of POST /containers/create for the proxy. Its hash detects drift. */
export function proxyContainerSpec(n: Names, s: Settings, p: Paths, image: string) {
  const binds = [`${p.caddyConfigDir}:/config`, `${p.caddyDataDir}:/data`, `${p.caddyRunDir}:/run/caddy`];
  if (s.acme_ca_root) binds.push(`${s.acme_ca_root}:${ACME_ROOT_IN_CONTAINER}:ro`);
  const ports = [s.http_port, s.https_port];
  const body = {
    Image: image,
    Cmd: ['caddy', 'run', '--config', '/config/caddy.json'],
    Env: ['XDG_CONFIG_HOME=/config', 'XDG_DATA_HOME=/data'],
    Labels: { [LABEL.instance]: n.instance, [LABEL.role]: 'proxy' } as Record<string, string>,
    ExposedPorts: Object.fromEntries(ports.map((x) => [`${x}/tcp`, {}])),
    HostConfig: {
      Binds: binds,
      PortBindings: Object.fromEntries(ports.map((x) => [`${x}/tcp`, [{ HostIp: s.bind, HostPort: String(x) }]])),
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: n.network,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    },
  };
  body.Labels['berth.spec'] = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return body;
}

/** What the proxy's config builders need from the settings (paths as seen inside the container). */
export function caddyBase(s: Settings) {
  return {
    adminSocket: CADDY_ADMIN_IN_CONTAINER, httpPort: s.http_port, httpsPort: s.https_port,
    acmeEmail: s.acme_email, acmeCa: s.acme_ca, acmeCaRoot: s.acme_ca_root ? ACME_ROOT_IN_CONTAINER : undefined,
    refreshMs: s.upstream_refresh_ms,
  };
}
