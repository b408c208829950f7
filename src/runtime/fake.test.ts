// The runtime contract on the in-memory fake (the Docker run is in test/integration/docker-runtime.test.ts).
import { runtimeContract } from './contract.js';
import { FakeRuntime } from './fake.js';

let n = 0;
runtimeContract('fake runtime', async () => {
  const rt = new FakeRuntime();
  rt.addImage('sample:1');
  return {
    rt, app: `app${++n}`, image: 'sample:1', exit3: ['exit', '3', 'boom'], sleep: (ms) => ['sleep', String(ms)], talk: ['talk', 'one', '1000', 'two', '3'], unpullable: 'localhost:1/berth-none:x',
    crash: async (u) => rt.crash(u), close: async () => undefined,
  };
});
