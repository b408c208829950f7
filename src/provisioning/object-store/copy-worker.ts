// The copy worker: one process per copy pass (started by run-copy.ts), so that the daemon never
// loads the AWS SDK and the memory a long copy holds goes when it ends. The job (JSON, keys
// included) is the first line on stdin; events go one JSON line each to stdout. When stdin
// closes before the pass is done, the daemon that started it is gone: the worker stops too.
import { ndjson } from '../../lib/ndjson.js';
import { copyBuckets } from './copy.js';
import type { BucketTally, CopyEvent, CopyJob } from './copy-plan.js';

const say = (e: CopyEvent) => process.stdout.write(`${JSON.stringify(e)}\n`);
const lines = ndjson<CopyJob>(process.stdin);
const first = await lines.next();
if (first.done) process.exit(0);
// stdin closing from here on means the daemon that started this pass is gone
void (async () => { try { for await (const _ of lines) void _; } finally { process.exit(1); } })();
const tallies: BucketTally[] = [];
copyBuckets(first.value, say, tallies)
  .then((buckets) => { say({ type: 'result', buckets }); process.exit(0); })
  .catch((e: Error) => { say({ type: 'error', message: e.message || String(e), buckets: tallies }); process.exit(1); });
