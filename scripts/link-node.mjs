// npm 9 and 10 (Debian 12's is 9.2) delete node_modules/.bin/node at the end of npm ci
// (npm/cli#4362): skipping the other platform's node-linux-* package removes that package's bin
// link too, which is the same path as the one the matching package made. This puts it back.
// It runs on the host's node (npm's postinstall), so it uses nothing newer than Node 18 has.
import { existsSync, rmSync, symlinkSync } from 'node:fs';

const target = `../node-linux-${process.arch}/bin/node`;
const link = 'node_modules/.bin/node';
if (!existsSync(link) && existsSync(`node_modules/.bin/${target}`)) {
  rmSync(link, { force: true }); // a dangling link
  symlinkSync(target, link);
}
