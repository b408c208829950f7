// The Node runtime berth runs on: the one `npm ci` pinned (node_modules/.bin/node), whatever
// node started this script (the host's node only runs npm).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pinnedNode = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'node_modules', '.bin', 'node');
if (!existsSync(pinnedNode)) {
  process.stderr.write(`berth's Node runtime is missing (${pinnedNode}): run npm ci\n`);
  process.exit(10);
}
