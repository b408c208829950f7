// The runtime contract on the in-memory fake (the Docker run is in test/integration/docker-runtime.test.ts).
import { runtimeContract, SITE_DIR, SITE_FILES, SITE_LINKS } from './contract.js';
import { FakeRuntime } from './fake.js';
import { servicesContract } from './services-contract.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let n = 0;
runtimeContract('fake runtime', async () => {
  const rt = new FakeRuntime();
  rt.addImage('sample:1');
  const site = Object.fromEntries([...Object.entries(SITE_FILES).map(([p, b]) => [`${SITE_DIR}/${p}`, b] as const),
    ...Object.entries(SITE_LINKS).map(([p, l]) => [`${SITE_DIR}/${p}`, { symlink: l }] as const)]);
  rt.addImage('site:1', undefined, site);
  return {
    rt, app: `app${++n}`, image: 'sample:1', exit3: ['exit', '3', 'boom'], sleep: (ms) => ['sleep', String(ms)], talk: ['talk', 'one', '1000', 'two', '3'],
    cat: ['cat'], hog: ['hog'], stubborn: ['stubborn'],
    unpullable: 'localhost:1/berth-none:x', siteImage: 'site:1',
    registry: async () => {
      rt.registryLogins.set('registry.test:5000', { username: 'ci', password: 'pw' });
      return { serveraddress: 'registry.test:5000', username: 'ci', password: 'pw' };
    },
    crash: async (u) => rt.crash(u),
    close: async () => { for (const u of await rt.list()) await rt.remove(u); }, // their commands' timers with them
  };
});

servicesContract('fake services', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-fake-services-'));
  const rt = new FakeRuntime('fake', root);
  return {
    rt, app: `app${++n}`, taskImage: 'postgres', cat: (path) => ['cat', path], env: ['env'], cp: (from, to) => ['cp', from, to],
    stop: async (s) => rt.services.stop(s),
    onNetwork: async (app, s) => (rt.appNetworks.get(app)?.has(s) ?? false) && (await rt.services.state(s)) !== null,
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
});
