// A directory tree copied with its owners, modes and links (cp -a, as root): apps' volumes hold
// files of their processes' users, and Caddy's data its own; node's fs.cp keeps neither owner.
import { mkdirSync } from 'node:fs';
import { run } from './run.js';

const COPY_TIMEOUT_MS = 3600_000;

/** The contents of `from` into `to` (made when missing). */
export async function copyTree(from: string, to: string): Promise<void> {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  // `from/.`: its contents (path.join would drop the dot, and cp would copy `from` itself into `to`)
  await run(['cp', '-a', '--', `${from.replace(/\/+$/, '')}/.`, to], { timeoutMs: COPY_TIMEOUT_MS });
}
