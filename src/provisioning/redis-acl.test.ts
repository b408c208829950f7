import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aclRules, APP_COMMANDS, knownCommands, redisPlan } from './redis-acl.js';
import type { RedisGrant } from './model.js';

const server = new Set([...APP_COMMANDS.filter((c) => c !== 'select|0'), 'select', 'keys', 'scan', 'flushall', 'function|list']);
const g: RedisGrant = { user: 'app-shop', prefix: 'shop:', logins: { a: 'pw-a', b: null }, active: 'a' };

test('an app user gets its password, its prefix and a list of commands: no category, nothing that lists or manages', () => {
  const rules = aclRules('shop:', ['pw'], server);
  assert.deepEqual(rules.slice(0, 5), ['reset', 'on', '>pw', '~shop:*', '&shop:*']);
  assert.ok(rules.slice(5).every((r) => /^\+[a-z_]+(\|[a-z0-9_-]+)?$/.test(r)), 'a category or a removal in the list');
  for (const c of ['keys', 'scan', 'randomkey', 'dbsize', 'info', 'flushall', 'flushdb', 'pubsub', 'function', 'fcall', 'script|flush', 'script|exists',
    'script|kill', 'client|list', 'client|kill', 'client|tracking', 'monitor', 'config', 'debug', 'dump', 'restore', 'migrate', 'copy', 'move', 'select']) {
    assert.ok(!rules.includes(`+${c}`), c);
  }
  assert.ok(rules.includes('+select|0') && rules.includes('+get') && rules.includes('+eval'));
});

test('commands the server does not know are left out (ACL SETUSER refuses unknown names)', () => {
  assert.deepEqual(knownCommands(new Set(['get', 'select', 'lmpop'])), ['get', 'lmpop', 'select|0']);
});

test('the plan: enabled slots first, then the idle slot disabled and its connections closed, the pre-slot user deleted', () => {
  const plan = redisPlan(g, server);
  assert.deepEqual(plan.map((c) => c.slice(0, 3).join(' ')),
    ['ACL SETUSER app-shop.a', 'ACL SETUSER app-shop.b', 'CLIENT KILL USER', 'ACL DELUSER app-shop', 'ACL SAVE']);
  assert.deepEqual(plan[1], ['ACL', 'SETUSER', 'app-shop.b', 'reset', 'off']);
  assert.deepEqual(plan[2], ['CLIENT', 'KILL', 'USER', 'app-shop.b']);
  assert.ok(plan[0]!.includes('>pw-a'));
  // mid-rotation both slots log in; a platform from before slots keeps its user with its passwords
  const both = redisPlan({ ...g, logins: { a: 'pw-a', b: 'pw-b' }, active: 'b', legacy: { passwords: ['old'] } }, server);
  assert.deepEqual(both.map((c) => c.slice(0, 3).join(' ')), ['ACL SETUSER app-shop.a', 'ACL SETUSER app-shop.b', 'ACL SETUSER app-shop', 'ACL SAVE']);
  assert.deepEqual(both[2]!.slice(3, 8), ['reset', 'on', '>old', '~shop:*', '&shop:*']);
});
