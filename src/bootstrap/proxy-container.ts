// The Caddy container: image (pulled, or built from Debian's package), and its spec.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { run } from '../exec/run.js';
import type { EngineApi } from '../runtime/docker/engine-api.js';
import { LABEL, type Names } from '../runtime/docker/specs.js';
import { ACME_ROOT_IN_CONTAINER } from '../proxy/caddy/base.js';
import { pinnedDeb } from '../exec/debian-suite.js';
import { buildScratchImage, havePulled, imageExists } from '../runtime/docker/images.js';
import { CADDY_VERSION, type Paths, type Settings } from '../state/settings.js';

/** The Caddy berth runs: 2.11 at least, for stream_close_delay (a config change then leaves other
 *  apps' WebSockets and SSE streams open; 2.6 closed them all, caddyserver/caddy#3143). Debian 12
 *  ships 2.6.2, so offline the image is built from sid's package, whose binary links only libc. */
export const CADDY_DEBIAN = { pkg: 'caddy', version: '2.11.4-1', suite: 'sid' } as const;
export const LOCAL_CADDY_IMAGE = `berth/caddy:${CADDY_VERSION}-debian`;
export const proxyContainerName = (n: Names) => `${n.instance}-caddy`;

/** The pinned Debian caddy binary, unpacked from its .deb. */
async function debianCaddy(progress: (l: string) => void): Promise<string> {
  const deb = await pinnedDeb(CADDY_DEBIAN.pkg, CADDY_DEBIAN.version, CADDY_DEBIAN.suite, progress);
  const dir = mkdtempSync(join(tmpdir(), 'berth-caddy-deb-'));
  await run(['dpkg-deb', '-x', deb, join(dir, 'root')]);
  return join(dir, 'root', 'usr', 'bin', 'caddy');
}

/** The proxy image to run: the pinned upstream tag if present or pullable, else a local build. */
export async function ensureCaddyImage(api: EngineApi, settings: Settings, progress: (l: string) => void): Promise<string> {
  if (await imageExists(api, settings.caddy_image)) return settings.caddy_image;
  if (await imageExists(api, LOCAL_CADDY_IMAGE)) return LOCAL_CADDY_IMAGE;
  if (await havePulled(api, settings.caddy_image, progress)) return settings.caddy_image;
  progress(`building ${LOCAL_CADDY_IMAGE} instead from Debian's caddy ${CADDY_DEBIAN.version} (${CADDY_DEBIAN.suite})`);
  const caddy = await debianCaddy(progress);
  try {
    await buildScratchImage(api, {
      tag: LOCAL_CADDY_IMAGE,
      programs: [{ from: caddy, to: '/usr/bin/caddy' }],
      files: [{ from: '/etc/ssl/certs/ca-certificates.crt', to: '/etc/ssl/certs/ca-certificates.crt' },
        { content: 'root:x:0:0:root:/root:/sbin/nologin\n', to: '/etc/passwd' },
        { content: 'hosts: files dns\n', to: '/etc/nsswitch.conf' }],
      dirs: ['/tmp', '/config', '/data'],
      dockerfileTail: ['ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data', 'CMD ["/usr/bin/caddy","run","--config","/config/caddy.json"]'],
      labels: { 'berth.source': `debian ${CADDY_DEBIAN.suite} caddy=${CADDY_DEBIAN.version}` },
    }, progress);
  } finally {
    rmSync(dirname(dirname(dirname(caddy))), { recursive: true, force: true });
  }
  return LOCAL_CADDY_IMAGE;
}

/** Body of POST /containers/create for the proxy. Its hash detects drift. */
export function proxyContainerSpec(n: Names, s: Settings, p: Paths, image: string) {
  // Static sites at the same path as on the host: a route's file_server root is the host path
  // of the site's `current` link, whose relative target resolves the same on both sides.
  const binds = [`${p.caddyConfigDir}:/config`, `${p.caddyDataDir}:/data`, `${p.caddyRunDir}:/run/caddy`, `${p.staticDir}:${p.staticDir}:ro`];
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

