// kamal-proxy (basecamp/kamal-proxy) as the deploy benchmark's peer. Built from its pinned
// release through the Go module proxy (no container registry is reachable), cached outside the
// repo, run as a scratch image on the benchmark platform's network and switched with
// `kamal-proxy deploy` through docker exec, as Kamal itself drives it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { run, which } from '../../src/exec/run.js';
import { buildScratchImage, imageExists } from '../../src/runtime/docker/images.js';
import { demux, EngineApi } from '../../src/runtime/docker/engine-api.js';
import { docker, until, type Platform } from '../../test/helpers/platform.js';
import { log } from './common.js';

export const KAMAL_PROXY_TAG = 'v0.9.2'; // the latest release the Go module proxy serves
const MODULE = 'github.com/basecamp/kamal-proxy';
export const KAMAL_PROXY_IMAGE = `berth-bench/kamal-proxy:${KAMAL_PROXY_TAG}`;
const CACHE = process.env.BERTH_BENCH_CACHE ?? '/var/cache/berth-bench';
export const kamalProxyBinary = join(CACHE, `kamal-proxy-${KAMAL_PROXY_TAG}`, 'kamal-proxy');

const ROLE = 'bench-peer'; // berth.role: the daemon only manages role=app, so it leaves these alone
const LOGS = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }; // as berth's releases
const CERT_IN_CONTAINER = '/certs';

/** The static binary (built when missing) and its scratch image (built when missing). */
export async function ensureKamalProxy(): Promise<string> {
  if (!existsSync(kamalProxyBinary)) {
    const dir = join(CACHE, `kamal-proxy-${KAMAL_PROXY_TAG}`);
    mkdirSync(dir, { recursive: true });
    const out = mkdtempSync(join(dir, '.build-')); // renamed into place whole: a broken build caches nothing
    log(`building ${MODULE}@${KAMAL_PROXY_TAG} with go (once: cached at ${kamalProxyBinary})`);
    try {
      // Not `go install MODULE@TAG`: it reads the module's version list, which the proxy refuses
      // here (403). `go mod download` of the tag works and checks it against sum.golang.org.
      const go = which('go') ?? '/usr/local/go/bin/go';
      const env = { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
      const { stdout } = await run([go, 'mod', 'download', '-json', `${MODULE}@${KAMAL_PROXY_TAG}`], { env, timeoutMs: 5 * 60_000 });
      const src = (JSON.parse(stdout) as { Dir: string }).Dir;
      // Its Makefile's build: a static binary.
      await run([go, 'build', '-trimpath', '-o', join(out, 'kamal-proxy'), './cmd/kamal-proxy'], { env, cwd: src, timeoutMs: 20 * 60_000 });
      renameSync(join(out, 'kamal-proxy'), kamalProxyBinary);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  const api = new EngineApi();
  if (!(await imageExists(api, KAMAL_PROXY_IMAGE))) {
    await buildScratchImage(api, {
      tag: KAMAL_PROXY_IMAGE,
      programs: [{ from: kamalProxyBinary, to: '/usr/local/bin/kamal-proxy' }],
      dirs: ['/tmp'], // its RPC socket and (HOME=/tmp) its state file
      dockerfileTail: ['ENV HOME=/tmp', 'EXPOSE 80 443', 'CMD ["/usr/local/bin/kamal-proxy","run"]'],
      labels: { 'berth.bench': 'kamal-proxy', 'berth.bench.source': `${MODULE}@${KAMAL_PROXY_TAG}` },
    }, log);
  }
  return KAMAL_PROXY_IMAGE;
}

/** Runs a command in a container; its exit code and combined output. */
async function exec(c: Docker.Container, cmd: string[]): Promise<{ code: number; output: string }> {
  const e = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const info = await e.inspect();
  return { code: info.ExitCode ?? -1, output: demux(Buffer.concat(chunks)).trim() };
}

export interface KamalProxy {
  httpsPort: number;
  ca: Buffer; // the self-signed certificate it serves, which the load trusts
  /** `kamal-proxy deploy` of the service to TARGET:8000; resolves with the command's wall time. */
  deploy(target: string): Promise<number>;
}

/**
 * Starts kamal-proxy on the platform's network, HTTPS on a published 127.0.0.1 port. It accepts
 * a certificate and key of our own (--tls-certificate-path), so it terminates TLS like Caddy:
 * a self-signed one for the host, since ACME cannot work offline.
 */
export async function startKamalProxy(p: Platform, image: string, host: string): Promise<KamalProxy> {
  const certs = join(p.root, 'kamal-proxy-certs'); // goes with the platform's root
  mkdirSync(certs, { recursive: true });
  // P-256, as Caddy's internal issuer uses, so both proxies do the same TLS work.
  await run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', join(certs, 'key.pem'), '-out', join(certs, 'cert.pem')]);
  const c = await docker.createContainer({
    name: `${p.instance}-kamal-proxy`,
    Image: image,
    Cmd: ['/usr/local/bin/kamal-proxy', 'run', '--http-port', '80', '--https-port', '443'],
    Labels: { 'berth.instance': p.instance, 'berth.role': ROLE },
    ExposedPorts: { '443/tcp': {} },
    HostConfig: {
      NetworkMode: p.instance, LogConfig: LOGS,
      Binds: [`${certs}:${CERT_IN_CONTAINER}:ro`],
      PortBindings: { '443/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, // the engine picks a free port
    },
  });
  await c.start();
  const ports = (await c.inspect()).NetworkSettings.Ports['443/tcp'];
  const httpsPort = Number(ports?.[0]?.HostPort);
  if (!httpsPort) throw new Error('kamal-proxy: no published https port');
  // `list` answers once its RPC socket is up: deploys before that would fail.
  await until(async () => (await exec(c, ['/usr/local/bin/kamal-proxy', 'list'])).code === 0, 10_000, 'kamal-proxy to start');
  const deployArgs = ['--host', host, '--health-check-path', '/health',
    '--tls', '--tls-certificate-path', `${CERT_IN_CONTAINER}/cert.pem`, '--tls-private-key-path', `${CERT_IN_CONTAINER}/key.pem`];
  return {
    httpsPort,
    ca: readFileSync(join(certs, 'cert.pem')),
    async deploy(target: string) {
      const t0 = performance.now();
      const r = await exec(c, ['/usr/local/bin/kamal-proxy', 'deploy', 'a-peer', '--target', `${target}:8000`, ...deployArgs]);
      const ms = performance.now() - t0;
      if (r.code !== 0) throw new Error(`kamal-proxy deploy ${target} exited ${r.code}: ${r.output}`);
      return ms;
    },
  };
}

/** Creates and starts a release of the sample app on the platform's network; returns its name. */
export async function startPeerRelease(p: Platform, image: string, version: string, env: string[] = []): Promise<string> {
  const name = `${p.instance}-a-peer-${version}`;
  const c = await docker.createContainer({
    name, Image: image, Env: [`VERSION=${version}`, 'PORT=8000', ...env],
    Labels: { 'berth.instance': p.instance, 'berth.role': ROLE },
    HostConfig: { NetworkMode: p.instance, RestartPolicy: { Name: 'no' }, LogConfig: LOGS, Init: true },
    NetworkingConfig: { EndpointsConfig: { [p.instance]: {} } },
  });
  await c.start();
  return name;
}

/** Stops and removes a release (after kamal-proxy has drained it, as Kamal does). */
export async function retirePeerRelease(name: string): Promise<void> {
  const c = docker.getContainer(name);
  await c.stop({ t: 10 }).catch((e: { statusCode?: number }) => { if (e.statusCode !== 304) throw e; });
  await c.remove({ force: true });
}

/** Removes every peer container of the platform (kamal-proxy and releases), whatever their state. */
export async function removePeer(p: Platform): Promise<void> {
  const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`, `berth.role=${ROLE}`] } });
  await Promise.all(cs.map((x) => docker.getContainer(x.Id).remove({ force: true }).catch(() => undefined)));
}
