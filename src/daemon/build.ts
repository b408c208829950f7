// Which daemon code is installed: `berth up` restarts a daemon that runs older code.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const daemonMain = () => resolve(dirname(fileURLToPath(import.meta.url)), 'main.js');

/** Identifies the installed daemon code: a daemon started from older code is restarted by up. */
export const buildId = () => String(Math.floor(statSync(daemonMain()).mtimeMs));
