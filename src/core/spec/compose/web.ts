// Which compose service serves the app's domains (becomes the process `web`):
//   1. the one x-berth names (x-berth: {web: app}; web: false for none);
//   2. else the only service that takes requests (a port in ports: or expose:), not counting
//      databases and queues (mysql, mongo, rabbitmq, ...);
//   3. else, of those, the first called web, app, backend, api, server or site;
//   4. else none is guessed: the file must say, with x-berth.web;
//   and where no service takes requests, a service called web is still the web (on port 8000).
import type { Findings } from '../issues.js';
import { unknownNameMessage } from '../suggest.js';
import { isDatastore } from './shared.js';

const WEB_NAMES = ['web', 'app', 'backend', 'api', 'server', 'site'];

export interface Candidate { name: string; port: number | null; image: string | null }

export function chooseWeb(kept: Candidate[], xberth: Record<string, unknown> | undefined, leftOut: Set<string>, findings: Findings): string | null {
  if (xberth && 'web' in xberth) {
    const w = xberth.web;
    if (w === false || w === null) return null;
    if (typeof w !== 'string') {
      findings.error(['x-berth', 'web'], 'expected the name of the service that serves the app\'s domains, or false');
      return null;
    }
    if (leftOut.has(w)) findings.error(['x-berth', 'web'], `${w} is left out (see above): name the service of the app itself`);
    else if (!kept.some((c) => c.name === w)) findings.error(['x-berth', 'web'], unknownNameMessage('service', w, kept.map((c) => c.name)));
    return kept.some((c) => c.name === w) ? w : null;
  }
  const serving = kept.filter((c) => c.port !== null && !(c.image && isDatastore(c.image)));
  if (serving.length <= 1) return serving[0]?.name ?? kept.find((c) => c.name === 'web')?.name ?? null;
  const named = WEB_NAMES.map((n) => serving.find((c) => c.name === n)).find(Boolean);
  if (named) return named.name;
  findings.error(['x-berth', 'web'], `several services take requests (${serving.map((c) => c.name).join(', ')}): say which one serves the app's domains`,
    `add x-berth: { web: ${serving[0]!.name} } at the top of the file`);
  return null;
}
