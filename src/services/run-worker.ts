// Runs the services worker as a child process; the job travels on stdin, never in argv.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../exec/run.js';
import type { WorkerJob, WorkerResult } from './worker.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');

export async function runServicesJob(job: WorkerJob, timeoutMs = 120_000): Promise<WorkerResult> {
  const { stdout } = await run([process.execPath, WORKER], { input: JSON.stringify(job), timeoutMs });
  return JSON.parse(stdout) as WorkerResult;
}
