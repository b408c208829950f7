// Runs services jobs in the worker process (kept warm for a short while: loading pg, the Redis
// client and the AWS SDK takes longer than most jobs); jobs travel on stdin, never in argv.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineWorker } from '../exec/line-worker.js';
import type { WorkerJob, WorkerResult } from './worker.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const IDLE_MS = 20_000;

export type JobRunner = (job: WorkerJob, timeoutMs?: number) => Promise<WorkerResult>;

/** A runner with a worker process of its own (started on the first job, stopped when idle). */
export function servicesWorker(): JobRunner {
  const worker = new LineWorker([process.execPath, WORKER], IDLE_MS);
  return async (job, timeoutMs = 120_000) => JSON.parse(await worker.request(JSON.stringify(job), timeoutMs)) as WorkerResult;
}
