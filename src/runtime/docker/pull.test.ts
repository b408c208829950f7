import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyPullError } from './pull.js';

// Messages as Docker Engine gives them (20.10 here; the same texts come from 26 to 29).
test('pull failures are told apart: only "offline" is lasting', () => {
  const cases: [string, ReturnType<typeof classifyPullError>][] = [
    ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: no such host', 'offline'],
    ['Get "https://registry-1.docker.io/v2/": dial tcp 44.205.64.79:443: connect: network is unreachable', 'offline'],
    ['Get "http://localhost:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused', 'offline'],
    ['Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection ' +
      '(Client.Timeout exceeded while awaiting headers)', 'timeout'],
    ['docker: pull minio/minio:x did not answer within 300s', 'timeout'],
    ['manifest for minio/minio:RELEASE.2099 not found: manifest unknown: manifest unknown', 'not_found'],
    ['pull access denied for nosuch/image, repository does not exist or may require \'docker login\': ' +
      'denied: requested access to the resource is denied', 'unauthorized'],
    ['Head "https://ghcr.io/v2/team/app/manifests/1": unauthorized: authentication required', 'unauthorized'],
    ['toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading', 'rate_limited'],
    ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.2:53: read udp: i/o timeout', 'timeout'],
    ['dial tcp: lookup registry-1.docker.io: Temporary failure in name resolution', 'timeout'],
    ['unexpected EOF', 'other'],
  ];
  for (const [msg, want] of cases) assert.equal(classifyPullError(msg), want, msg);
});
