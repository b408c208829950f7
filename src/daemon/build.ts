// Which daemon code is installed: `berth up` restarts a daemon that runs older code.
import { statSync } from 'node:fs';
import { distFile } from '../lib/install.js';

export const daemonMain = () => distFile('daemon', 'main.js');

/** Identifies the installed daemon code: a daemon started from older code is restarted by up. */
export const buildId = () => String(Math.floor(statSync(daemonMain()).mtimeMs));
