import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../lib/errors.js';
import { AppCreateBody, AppUpdateBody, ConfigBody, DeployBody, parseBody } from './bodies.js';

test('every problem of a body is reported with its path', () => {
  assert.throws(() => parseBody(DeployBody, { image: 'UPPER/x', port: 70000, health_path: 'no-slash', timeout: 'soon', extra: 1 }), (e: BerthError) => {
    const paths = (e.details?.issues as { path: string }[]).map((i) => i.path).sort();
    assert.deepEqual(paths, ['body', 'health_path', 'image', 'port', 'timeout']);
    assert.match(e.message, /^5 problems: /);
    assert.match(e.message, /image: "UPPER\/x" is not a valid image reference/);
    assert.match(e.message, /Unrecognized key\(s\) in object: 'extra'/);
    return e.code === 'invalid';
  });
  assert.throws(() => parseBody(AppCreateBody, { name: 'Bad Name', domains: ['ok.example.com', 'bad domain'] }), (e: BerthError) =>
    (e.details?.issues as { path: string }[]).map((i) => i.path).join(',') === 'name,domains.1');
  assert.throws(() => parseBody(ConfigBody, { set: { PORT: '1', 'bad-key': 'x', OK: 'fine' } }), (e: BerthError) =>
    /set\.PORT: PORT is set by berth/.test(e.message) && /set\.bad-key: "bad-key" is not a valid environment variable name/.test(e.message));
  assert.throws(() => parseBody(DeployBody, { port: 'x' }), (e: BerthError) => e.message === 'port: "x" is not a port number (1-65535)');
});

test('valid bodies come out clean: durations in ms, ports as numbers', () => {
  assert.deepEqual(parseBody(DeployBody, { image: 'app:1', port: '8080', timeout: '30s', lock_timeout: 5 }),
    { image: 'app:1', port: 8080, timeout: 30_000, lock_timeout: 5000 });
  assert.deepEqual(parseBody(AppCreateBody, { name: 'shop', domains: ['Shop.Example.com'] }), { name: 'shop', domains: ['shop.example.com'] });
});

test('a release command is argv: empty words may follow the program, whose own name may not be empty', () => {
  assert.deepEqual(parseBody(DeployBody, { release_command: ['node', '-e', 'process.exit(3)', ''] }).release_command, ['node', '-e', 'process.exit(3)', '']);
  assert.throws(() => parseBody(DeployBody, { release_command: ['', 'x'] }), /release_command: the program name \(first word\) is empty/);
  assert.throws(() => parseBody(DeployBody, { release_command: [] }), /release_command/);
});

test('an app\'s PostgreSQL connection limit: a whole number from 1 to 10000, or null for the default', () => {
  assert.deepEqual(parseBody(AppUpdateBody, { pg_connections: null }), { pg_connections: null });
  assert.equal(parseBody(AppCreateBody, { name: 'shop', domains: ['shop.example.com'], pg_connections: 40 }).pg_connections, 40);
  for (const bad of [0, -1, 1.5, 10_001, 'x', '5']) {
    assert.throws(() => parseBody(AppUpdateBody, { pg_connections: bad }), /pg_connections: must be/, String(bad));
  }
});
