// The proxy image of berth's earlier releases: Debian 12's own caddy (2.6.2), built the way those
// releases built it, to prove that `berth up` upgrades a platform that runs it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/exec/run.js';
import { buildScratchImage, imageExists } from '../../src/runtime/docker/images.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';

export const OLD_CADDY_IMAGE = 'berth-test/caddy:2.6.2-debian';

export async function ensureOldCaddyImage(): Promise<string> {
  const api = new EngineApi();
  if (await imageExists(api, OLD_CADDY_IMAGE)) return OLD_CADDY_IMAGE;
  const dir = mkdtempSync(join(tmpdir(), 'berth-old-caddy-'));
  try {
    await run(['apt-get', 'download', 'caddy=2.6.2-5'], { cwd: dir, timeoutMs: 300_000 });
    const deb = readdirSync(dir).find((f) => f.endsWith('.deb'))!;
    await run(['dpkg-deb', '-x', join(dir, deb), join(dir, 'root')]);
    await buildScratchImage(api, {
      tag: OLD_CADDY_IMAGE,
      programs: [{ from: join(dir, 'root', 'usr', 'bin', 'caddy'), to: '/usr/bin/caddy' }],
      files: [{ from: '/etc/ssl/certs/ca-certificates.crt', to: '/etc/ssl/certs/ca-certificates.crt' },
        { content: 'root:x:0:0:root:/root:/sbin/nologin\n', to: '/etc/passwd' }, { content: 'hosts: files dns\n', to: '/etc/nsswitch.conf' }],
      dirs: ['/tmp', '/config', '/data'],
      dockerfileTail: ['ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data', 'CMD ["/usr/bin/caddy","run","--config","/config/caddy.json"]'],
    }, () => undefined);
    return OLD_CADDY_IMAGE;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
