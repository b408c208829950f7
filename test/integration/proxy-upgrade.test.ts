// A platform that runs the Caddy 2.6 proxy of berth's earlier releases (and whose settings
// still name caddy:2.6.2) is upgraded in place by `berth up`: the proxy runs 2.11 afterwards,
// with the same certificates (the app's served certificate is the very same one), the same
// files under Caddy's data directory (CA, issued certificates, any ACME account) and every route.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { ensureOldCaddyImage } from '../helpers/old-caddy.js';
import { docker, Platform, platformWithApps, until } from '../helpers/platform.js';

const p = new Platform();

before(async () => {
  await platformWithApps(p, ['up1', 'up2']);
});
after(() => p.destroy());

function servedCertificate(host: string): Promise<string> {
  return new Promise((res, rej) => {
    const s = connect({ host: '127.0.0.1', port: p.httpsPort, servername: host, ca: p.caRoot }, () => {
      res(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', rej);
  });
}

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const path = join(d, f);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.lock$|instance\.uuid$|last_clean\.json$/.test(f)) out[path.slice(dir.length)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

async function caddyVersion(): Promise<string> {
  const exec = await docker.getContainer(`${p.instance}-caddy`).exec({ Cmd: ['caddy', 'version'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  let out = '';
  for await (const chunk of stream) out += (chunk as Buffer).toString('latin1');
  return out;
}

test('berth up upgrades a Caddy 2.6 proxy in place, keeping certificates, data and routes', async () => {
  const dataDir = join(p.root, 'caddy', 'data');
  // Turn the platform into one of an earlier release: its settings name caddy:2.6.2, its config
  // file has no stream_close_delay (2.6 refuses the field), and its proxy runs Debian 12's 2.6.2.
  p.killDaemon('SIGKILL');
  const settingsFile = join(p.root, 'berth.json');
  writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(readFileSync(settingsFile, 'utf8')), caddy_image: 'caddy:2.6.2' }, null, 2));
  const configFile = join(p.root, 'caddy', 'config', 'caddy.json');
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/,\s*"stream_close_delay":\s*"\d+ms"/g, ''));
  const old = await ensureOldCaddyImage();
  const proxy = docker.getContainer(`${p.instance}-caddy`);
  const spec = await proxy.inspect();
  await proxy.remove({ force: true });
  const c = await docker.createContainer({ name: `${p.instance}-caddy`, Image: old, Cmd: spec.Config.Cmd, Env: spec.Config.Env, Labels: { ...spec.Config.Labels, 'berth.spec': 'old' },
    ExposedPorts: spec.Config.ExposedPorts, HostConfig: spec.HostConfig });
  // on the apps' own networks, as the proxy it replaces was (the daemon that would attach it is down)
  for (const net of Object.keys(spec.NetworkSettings.Networks).filter((n) => n !== spec.HostConfig.NetworkMode)) {
    await docker.getNetwork(net).connect({ Container: c.id });
  }
  await c.start();
  assert.match(await caddyVersion(), /\bv?2\.6\.2\b/);
  await until(async () => (await p.get('up1.localhost').catch(() => ({ status: 0 }))).status === 200, 20_000, 'the 2.6 proxy to serve');
  const certs = { up1: await servedCertificate('up1.localhost'), up2: await servedCertificate('up2.localhost') };
  const files = filesUnder(dataDir);
  assert.ok(Object.keys(files).some((f) => f.includes('certificates')), `no certificates under ${dataDir}`);

  const r = await p.up();
  assert.match(r.stdout + r.stderr, /upgrading a setting: caddy_image caddy:2\.6\.2 -> caddy:2\.11\.4/);
  assert.match(r.stdout + r.stderr, /upgraded from berth-test\/caddy:2\.6\.2-debian to berth\/caddy:2\.11\.4-debian/);
  assert.match(await caddyVersion(), /\bv?2\.11\.4\b/);
  assert.equal(JSON.parse(readFileSync(settingsFile, 'utf8')).caddy_image, 'caddy:2.11.4');
  for (const app of ['up1', 'up2'] as const) {
    assert.equal((await p.get(`${app}.localhost`)).status, 200, `${app} does not serve after the upgrade`);
    assert.equal(await servedCertificate(`${app}.localhost`), certs[app], `${app} got a new certificate`);
  }
  const after = filesUnder(dataDir);
  for (const [f, hash] of Object.entries(files)) assert.equal(after[f], hash, `${f} changed or vanished in the upgrade`);
  assert.match(readFileSync(configFile, 'utf8'), /stream_close_delay/);
  const again = await p.json<{ steps: { step: string; result: string }[] }>(['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  for (const s of again.steps) assert.match(s.result, /^(ok|running)$/, `a second berth up after the upgrade: ${s.step}: ${s.result}`);
});
