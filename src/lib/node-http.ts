// node:http, loaded with require(). Why: in Node 24 an ESM `import ... from 'node:http'` builds
// the module's namespace from every one of its exports, lazy getters included, and that loads
// far more than the client and server berth uses: +12 MB of resident memory measured in the
// daemon (65.6 MB at rest against 53 MB on Node 20). require() reads only what is asked for.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

const http = createRequire(import.meta.url)('node:http') as typeof Http;

export const request: typeof Http.request = http.request;
/** A request over a unix socket (the daemon's, Docker's): plain HTTP, so no TLS server name.
 *  Without one the agent works it out of the Host header, and the first IPv6 check that does
 *  compiles a large regex: about 5 ms of every CLI command's start (measured, Node 24). */
export const socketRequest = (o: Http.RequestOptions & { socketPath: string }, cb?: (res: Http.IncomingMessage) => void): Http.ClientRequest =>
  http.request({ ...o, servername: '' } as Http.RequestOptions, cb);
export const createServer: typeof Http.createServer = http.createServer;
export const STATUS_CODES: typeof Http.STATUS_CODES = http.STATUS_CODES;

/** node:https (and TLS) only once asked for: the daemon at rest does without them. */
let https: typeof import('node:https') | undefined;
export const httpsRequest = ((...args: Parameters<typeof Http.request>) => {
  https ??= createRequire(import.meta.url)('node:https') as typeof import('node:https');
  return (https.request as typeof Http.request)(...args);
}) as typeof Http.request;
