// Runs services jobs in the worker process (kept warm for a short while: loading pg, the Redis
// client and the AWS SDK takes longer than most jobs); jobs travel on stdin, never in argv.
import { distFile } from '../lib/install.js';
import { LineWorker } from '../exec/line-worker.js';
import type { WorkerJob, WorkerResult } from './worker.js';

/** The worker's module: run by path, in a process of its own. */
export const SERVICES_WORKER = distFile('provisioning', 'worker.js');
const IDLE_MS = 20_000;

export type JobRunner = (job: WorkerJob, timeoutMs?: number) => Promise<WorkerResult>;

/** A runner with a worker process of its own (started on the first job, stopped when idle). */
export function servicesWorker(): JobRunner {
  const worker = new LineWorker([process.execPath, SERVICES_WORKER], IDLE_MS);
  return (job, timeoutMs = 120_000) => worker.request<WorkerResult>(job, timeoutMs);
}
