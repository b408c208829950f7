// Automatic HTTPS through ACME, end to end: berth's Caddy obtains a real certificate for a
// public-looking domain from Pebble (Let's Encrypt's test ACME server, running on this host),
// Pebble validating the challenge against the proxy's published ports through a fake DNS
// (pebble-challtestsrv) that points every name at 127.0.0.1; plain HTTP redirects to HTTPS.
//
// Network: Pebble, challtestsrv and the proxy's ports listen on loopback; Pebble's ACME API
// also listens on the Docker bridge gateway of this platform's network so Caddy (inside its
// container) can reach it. Nothing is sent anywhere else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { docker, ensureSample, Platform, SAMPLE, sleep, until } from '../helpers/platform.js';
import { hostAddressOn } from '../helpers/gateway.js';

const p = new Platform();
const domain = 'shop.berth-acme.org'; // not an internal name: served through the ACME issuer
const email = 'ops@berth-acme.org';
const work = mkdtempSync(join(tmpdir(), 'berth-acme-it-'));

let gateway = '';
let acmeDir = ''; // Pebble's ACME directory URL, as Caddy reaches it
let mgmtUrl = ''; // Pebble's management API, from this host
let pebbleCa = ''; // PEM of the CA that signed Pebble's own HTTPS certificate
let pebble: Proc | undefined;
let challtestsrv: Proc | undefined;

// ---------------------------------------------------------------- helpers

/** Absolute path of a program on PATH, or a clear failure (never a skip). */
function program(name: string, hint: string): string {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const f = join(dir, name);
    try { accessSync(f, constants.X_OK); return f; } catch { /* next */ }
  }
  throw new Error(`this test needs \`${name}\` on PATH and it is missing: ${hint}`);
}

/** A TCP port (and, with udp, the same UDP port) free on `host` right now. */
async function freePort(host: string, udp = false): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((res, rej) => {
      const s = createServer();
      s.once('error', rej);
      s.listen(0, host, () => { const a = s.address(); s.close(() => res(typeof a === 'object' && a ? a.port : 0)); });
    });
    if (!udp) return port;
    const udpFree = await new Promise<boolean>((res) => {
      const s = createSocket('udp4');
      s.once('error', () => { s.close(); res(false); });
      s.bind(port, host, () => s.close(() => res(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`no free port found on ${host}`);
}

/** A host process started with an argv array; keeps the tail of its output for diagnostics. */
class Proc {
  readonly child: ChildProcess;
  private out = '';
  exited: { code: number | null; signal: string | null } | null = null;
  private readonly done: Promise<void>;

  constructor(readonly name: string, argv: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer) => { this.out = (this.out + d.toString('utf8')).slice(-20_000); };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.done = new Promise((res) => {
      this.child.once('error', (e) => { this.out += `\nspawn error: ${e.message}`; this.exited = { code: null, signal: null }; res(); });
      this.child.once('exit', (code, signal) => { this.exited = { code, signal }; res(); });
    });
  }

  get output(): string { return this.out; }

  /** Fails if the process has exited (it should run for the whole test). */
  assertRunning(): void {
    if (this.exited) throw new Error(`${this.name} exited (${JSON.stringify(this.exited)}); its output:\n${this.out.slice(-3000)}`);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => { if (!this.exited) this.child.kill('SIGKILL'); }, 5000);
    await Promise.race([this.done, sleep(10_000)]);
    clearTimeout(t);
  }
}

function execFileP(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile(file, args, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else res(stdout);
    });
  });
}

/** A throwaway CA, and a certificate it signs for Pebble's HTTPS listeners. */
async function makePebbleCerts(openssl: string, ip: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (n: string) => join(work, n);
  await execFileP(openssl, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=berth acme test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], work);
  await execFileP(openssl, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', f('pebble.key'), '-out', f('pebble.csr'), '-subj', '/CN=pebble'], work);
  writeFileSync(f('pebble.ext'), [
    `subjectAltName=IP:${ip},IP:127.0.0.1,DNS:localhost`,
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'));
  await execFileP(openssl, ['x509', '-req', '-in', f('pebble.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-set_serial', '0x' + Date.now().toString(16), '-days', '2', '-extfile', f('pebble.ext'), '-out', f('pebble.pem')], work);
  return { ca: f('ca.pem'), cert: f('pebble.pem'), key: f('pebble.key') };
}

/** A certificate subject field as one string (node types it as string | string[]). */
const cn = (v: string | string[] | undefined): string => [v ?? ''].flat().join(', ');

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** GET over HTTPS, verifying the server's certificate against `ca` and `servername`. */
function httpsGet(o: { host: string; port: number; path?: string; servername?: string; hostHeader?: string; ca: string | string[] }): Promise<Answer> {
  return new Promise((res, rej) => {
    const req = httpsRequest({
      host: o.host, port: o.port, path: o.path ?? '/', servername: o.servername, ca: o.ca, agent: false,
      rejectUnauthorized: true, timeout: 10_000, headers: o.hostHeader ? { host: o.hostHeader } : {},
    }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** The certificate chain the proxy presents for `servername`, without verifying it. */
function presentedChain(port: number, servername: string): Promise<PeerCertificate[]> {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, timeout: 5000 }, () => {
      const chain: PeerCertificate[] = [];
      let c: PeerCertificate | undefined = s.getPeerCertificate(true);
      while (c && c.raw && !chain.some((x) => x.fingerprint256 === c!.fingerprint256)) {
        chain.push(c);
        c = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate;
      }
      s.end();
      res(chain);
    });
    s.on('timeout', () => s.destroy(new Error('timeout')));
    s.on('error', rej);
  });
}

async function caddyLogs(): Promise<string> {
  try {
    const b = await docker.getContainer(`${p.instance}-caddy`).logs({ stdout: true, stderr: true, tail: 30 });
    return b.toString('utf8');
  } catch (e) { return `(no proxy logs: ${String(e)})`; }
}

const diagnostics = async () =>
  `\n--- proxy log (tail) ---\n${(await caddyLogs()).slice(-4000)}` +
  `\n--- pebble (tail) ---\n${pebble?.output.slice(-3000) ?? ''}` +
  `\n--- challtestsrv (tail) ---\n${challtestsrv?.output.slice(-1500) ?? ''}`;

// ---------------------------------------------------------------- setup

before(async () => {
  const openssl = program('openssl', 'apt-get install openssl');
  const pebbleBin = program('pebble', 'apt-get install pebble (Debian package; .ci/run installs it)');
  const challBin = program('pebble-challtestsrv', 'apt-get install pebble (Debian package; .ci/run installs it)');

  // 1. The platform's network exists only after a first `up`; Caddy reaches the host at its gateway.
  await p.up();
  gateway = await hostAddressOn(p.instance);
  assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/, `no IPv4 gateway on network ${p.instance}`);

  // 2. Fake DNS: every A query answers 127.0.0.1, where the proxy's ports are published.
  const dnsPort = await freePort('127.0.0.1', true);
  const challMgmtPort = await freePort('127.0.0.1');
  challtestsrv = new Proc('pebble-challtestsrv', [challBin,
    '-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${challMgmtPort}`,
    '-http01', '', '-https01', '', '-tlsalpn01', '',
    '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '']);
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`127.0.0.1:${dnsPort}`]);
  await until(async () => {
    challtestsrv!.assertRunning();
    return (await resolver.resolve4(domain)).includes('127.0.0.1');
  }, 15_000, `pebble-challtestsrv to answer DNS on 127.0.0.1:${dnsPort}`).catch(async (e) => { throw new Error(`${(e as Error).message}${await diagnostics()}`); });

  // 3. Pebble, its HTTPS certificate valid for the gateway address, validating challenges on
  //    the proxy's own published ports.
  const certs = await makePebbleCerts(openssl, gateway);
  pebbleCa = readFileSync(certs.ca, 'utf8');
  const acmePort = await freePort(gateway);
  const mgmtPort = await freePort('127.0.0.1');
  const config = join(work, 'pebble-config.json');
  writeFileSync(config, JSON.stringify({
    pebble: {
      listenAddress: `${gateway}:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: certs.cert,
      privateKey: certs.key,
      httpPort: p.httpPort,
      tlsPort: p.httpsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }, null, 2));
  pebble = new Proc('pebble', [pebbleBin, '-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`],
    { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' });
  acmeDir = `https://${gateway}:${acmePort}/dir`;
  mgmtUrl = `https://127.0.0.1:${mgmtPort}`;
  await until(async () => {
    pebble!.assertRunning();
    const r = await httpsGet({ host: gateway, port: acmePort, path: '/dir', ca: pebbleCa });
    return r.status === 200 && /newOrder/.test(r.body);
  }, 20_000, `pebble to serve its ACME directory at ${acmeDir}`).catch(async (e) => { throw new Error(`${(e as Error).message}${await diagnostics()}`); });

  // 4. Point berth at Pebble. The daemon reads its settings only at start: stop it, so that
  //    `up` (which recreates the proxy for the new settings) starts it again with them.
  const pid = p.daemonPid();
  p.killDaemon('SIGKILL');
  if (pid) await until(async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 10_000, `daemon ${pid} to exit`);
  const up = await p.up(['--acme-email', email, '--acme-ca', acmeDir, '--acme-ca-root', certs.ca]);
  assert.match(up.stdout + up.stderr, /recreat/, `the proxy was not recreated for the ACME settings:\n${up.stdout}\n${up.stderr}`);
  await ensureSample(p);
});

after(async () => {
  await pebble?.stop();
  await challtestsrv?.stop();
  await p.destroy();
  rmSync(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

test('an app on a public domain gets its certificate from Pebble through ACME and serves over HTTPS', async () => {
  // Pebble's roots change on every start: fetch them from its management API.
  const root = await httpsGet({ host: '127.0.0.1', port: Number(new URL(mgmtUrl).port), path: '/roots/0', ca: pebbleCa });
  assert.equal(root.status, 200, `pebble management /roots/0: ${root.status} ${root.body}`);
  const pebbleRoot = new X509Certificate(root.body);
  assert.match(pebbleRoot.subject, /Pebble/);
  const viaProxy = () => httpsGet({ host: '127.0.0.1', port: p.httpsPort, servername: domain, hostHeader: domain, ca: root.body });

  // The route alone (no release yet) makes Caddy manage the name's certificate. Until the ACME
  // order completes it has no certificate for the name (the handshake fails).
  await p.ok(['apps', 'create', 'shop', '--domain', domain]);
  let chain: PeerCertificate[] = [];
  try {
    chain = await until(async () => {
      pebble!.assertRunning();
      const c = await presentedChain(p.httpsPort, domain);
      return c.length > 0 && /Pebble/.test(cn(c[0]!.issuer?.CN)) ? c : undefined;
    }, 60_000, `the proxy to present a certificate for ${domain} issued by Pebble`);
  } catch (e) {
    throw new Error(`${(e as Error).message}${await diagnostics()}`);
  }
  const leaf = chain[0]!;
  assert.match(cn(leaf.issuer.CN), /Pebble Intermediate/, `issuer: ${JSON.stringify(leaf.issuer)}`);
  assert.match(leaf.subjectaltname ?? '', new RegExp(`DNS:${domain.replace(/\./g, '\\.')}`));

  // The presented chain verifies against Pebble's root, and the leaf names the domain.
  const leafX = new X509Certificate(leaf.raw);
  assert.ok(leafX.checkHost(domain), `certificate is not valid for ${domain}: ${leafX.subjectAltName}`);
  const inter = chain[1] ? new X509Certificate(chain[1].raw) : null;
  assert.ok(inter, 'the proxy did not send the intermediate certificate');
  assert.ok(leafX.checkIssued(inter!) && leafX.verify(inter!.publicKey), 'leaf is not signed by the presented intermediate');
  assert.ok(inter!.checkIssued(pebbleRoot) && inter!.verify(pebbleRoot.publicKey), 'intermediate is not signed by Pebble\'s root');

  // Pebble really validated a challenge against the proxy's published port and issued.
  assert.match(pebble!.output, /set VALID by completed challenge/, `pebble validated no challenge:\n${pebble!.output.slice(-2000)}`);
  assert.match(pebble!.output, /Issued certificate serial/, `pebble issued no certificate:\n${pebble!.output.slice(-2000)}`);

  // Caddy never started an order with another issuer (Let's Encrypt, the default) before berth
  // gave it the configured ACME policy: no certificate job failed or was cancelled on the way.
  const logs = await caddyLogs();
  assert.doesNotMatch(logs, /obtaining certificate|could not get certificate|job failed/, `the proxy logged a failed certificate job:\n${logs}`);

  // A client that trusts only Pebble's root reaches the app over verified TLS: first the
  // placeholder, then, after a deploy (which keeps the certificate), the app itself.
  const placeholder = await viaProxy();
  assert.equal(placeholder.status, 503, placeholder.body);
  assert.match(placeholder.body, /no release/);
  const r = await p.ok(['deploy', 'shop', '--image', SAMPLE]);
  assert.match(r.stdout, /shop v1 is live/);
  const res = await viaProxy();
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /hello from shop v1/);
  const after = await presentedChain(p.httpsPort, domain);
  assert.equal(after[0]?.fingerprint256, leaf.fingerprint256, 'the certificate changed across the deploy');
});

test('plain HTTP is redirected to HTTPS with 308', async () => {
  const res = await new Promise<Answer>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: p.httpPort, path: '/some/path?q=1', headers: { host: domain }, agent: false, timeout: 10_000 }, (r) => {
      r.resume();
      r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
  assert.equal(res.status, 308, `headers: ${JSON.stringify(res.headers)}`);
  const location = new URL(String(res.headers.location));
  assert.equal(location.protocol, 'https:');
  assert.equal(location.hostname, domain);
  // Caddy omits the port when it is the configured https_port (its notion of the public HTTPS
  // port), so behind a non-default port the Location may carry no port; never a different one.
  assert.ok(['', String(p.httpsPort)].includes(location.port), `redirect to port ${location.port}: ${location.href}`);
  assert.equal(location.pathname + location.search, '/some/path?q=1');
});
