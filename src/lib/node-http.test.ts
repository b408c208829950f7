import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import { socketRequest } from './node-http.js';

const http = createRequire(import.meta.url)('node:http') as typeof Http;

// The agent works a TLS server name out of the Host header unless one is given (its first IPv6
// check then compiles a large regex, ~5 ms of a CLI command's start): a unix socket needs none.
test('a request over a unix socket reaches the agent with an empty server name', async () => {
  let seen: unknown = 'not asked';
  class Spy extends http.Agent {
    // Node's own method, left out of its types
    addRequest(req: Http.ClientRequest, o: Http.RequestOptions & { servername?: string }): void {
      seen = o.servername;
      (http.Agent.prototype as unknown as { addRequest: (r: Http.ClientRequest, o: object) => void }).addRequest.call(this, req, o);
    }
  }
  const req = socketRequest({ socketPath: '/nonexistent/berth-test.sock', path: '/', headers: { host: 'berth' }, agent: new Spy() });
  await new Promise((resolve) => { req.on('error', resolve); req.end(); });
  assert.equal(seen, '');
});
