// A private registry for tests: the distribution registry from Debian's docker-registry package
// on loopback, with htpasswd (bcrypt) auth for one user.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './platform.js';

export interface TestRegistry { address: string; user: string; password: string; stop(): void }

export async function startRegistry(): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const address = `localhost:${30000 + Math.floor(Math.random() * 5000)}`;
  const user = 'ci';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  // htpasswd -B: the registry only accepts bcrypt entries
  writeFileSync(join(dir, 'htpasswd'), execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' }));
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${address.split(':')[1]} }`,
    `auth: { htpasswd: { realm: berth-test, path: ${join(dir, 'htpasswd')} } }`,
    '',
  ].join('\n'));
  const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  proc.on('error', (e) => { stderr += `cannot start docker-registry (apt-get install docker-registry): ${e.message}`; });
  const stop = () => { proc.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); };
  try {
    await until(async () => (await fetch(`http://${address}/v2/`).catch(() => null))?.status === 401, 20_000, `the registry to answer (${stderr})`);
  } catch (e) {
    stop();
    throw e;
  }
  return { address, user, password, stop };
}
