import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleRouteCall } from './proxy.js';

const R = '/config/apps/http/servers/berth/routes';

test('one route changing is one route call; two changing at once (an app and its redirects) is left to one full load', () => {
  const a = { '@id': 'berth-app-a' };
  const a2 = { '@id': 'berth-app-a', x: 1 };
  const red = { '@id': 'berth-app-a-redirect' };
  assert.deepEqual(singleRouteCall([{ id: 'berth-app-a', have: null, want: a }, { id: 'berth-app-a-redirect', have: null, want: null }]),
    { method: 'PUT', path: `${R}/0`, body: a });
  assert.deepEqual(singleRouteCall([{ id: 'berth-app-a', have: a, want: a2 }]), { method: 'PATCH', path: '/id/berth-app-a', body: a2 });
  assert.deepEqual(singleRouteCall([{ id: 'berth-app-a', have: a, want: a }, { id: 'berth-app-a-redirect', have: red, want: null }]),
    { method: 'DELETE', path: '/id/berth-app-a-redirect' });
  assert.equal(singleRouteCall([{ id: 'berth-app-a', have: null, want: a }, { id: 'berth-app-a-redirect', have: null, want: red }]), null);
  assert.equal(singleRouteCall([{ id: 'berth-app-a', have: a, want: a }]), null, 'nothing to change is no call');
});
