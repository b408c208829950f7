// Runs test/helpers/load.ts in its own process, so that latencies are not inflated by the
// benchmark's own work (spawning CLI processes blocks its event loop for milliseconds).
// Started by RemoteLoad with fork(); reports counts and versions seen every 100 ms; on 'stop' sends the result.
import { Load } from '../../test/helpers/load.js';

const { port, host, ca, concurrency, path } = JSON.parse(process.argv[2]!) as { port: number; host: string; ca: string; concurrency: number; path?: string };
const load = new Load({ port, host, ca, path }, concurrency);
const timer = setInterval(() => process.send!({ type: 'progress', total: load.result.total, failed: load.result.failed, bodies: load.result.bodies }), 100);
process.on('message', async (m: { type: string }) => {
  if (m.type !== 'stop') return;
  clearInterval(timer);
  const result = await load.stop();
  process.send!({ type: 'result', result }, () => process.exit(0));
});
