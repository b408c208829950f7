// Runs a copy pass in the copy worker (copy-worker.ts) and hands its events to the caller as
// they come; the job, keys included, travels on stdin, never in argv. Loads no S3 code itself.
import { spawn } from 'node:child_process';
import { BerthError } from '../../lib/errors.js';
import { distFile } from '../../lib/install.js';
import { ndjson } from '../../lib/ndjson.js';
import type { BucketTally, CopyEvent, CopyJob } from './copy-plan.js';

/** The copy worker's module: run by path, in a process of its own. */
export const COPY_WORKER = distFile('provisioning', 'object-store', 'copy-worker.js');

export type CopyRunner = (job: CopyJob, onEvent: (e: CopyEvent) => void) => Promise<BucketTally[]>;

/** Fails with the worker's message; `details.buckets` says how far each bucket got. */
export const runCopy: CopyRunner = (job, onEvent) => new Promise((resolve, reject) => {
  const child = spawn(process.execPath, [COPY_WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let end: CopyEvent | null = null;
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  void (async () => {
    try {
      for await (const e of ndjson<CopyEvent>(child.stdout)) {
        if (e.type === 'result' || e.type === 'error') end = e;
        else onEvent(e);
      }
    } catch (e) { // its output unreadable, or an event not taken: it is stopped, and 'close' says it gave no result
      stderr += `\nits events could not be taken: ${(e as Error).message}`;
      child.kill('SIGKILL');
    }
  })();
  child.on('error', (e) => reject(new BerthError('internal', `the copy worker did not start: ${e.message}`)));
  child.on('close', (code, signal) => {
    const e = end as CopyEvent | null;
    if (e?.type === 'result') return resolve(e.buckets);
    if (e?.type === 'error') return reject(new BerthError('unavailable', e.message, undefined, { buckets: e.buckets }));
    reject(new BerthError('internal', `the copy worker exited (${signal ?? code}) without a result${stderr ? `: ${stderr.trim()}` : ''}`));
  });
  child.stdin.on('error', () => undefined); // a write to a worker that died surfaces through 'close'
  child.stdin.write(`${JSON.stringify(job)}\n`); // stdin stays open: it closes when this process goes
});
