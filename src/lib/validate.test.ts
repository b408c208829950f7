import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from './validate.js';
import { ValidationError } from './errors.js';

const hostile = [
  '', ' ', 'a b', 'a{b}', 'a"b', "a'b", 'a\nb', 'a;rm -rf /', '$(id)', '`id`', 'ünïcode', 'a'.repeat(300),
  'café.example.com', '{', '}', 'a/b', '..', '-a', 'A\u0000B', 'x'.repeat(64) + '.com',
];

test('app names are DNS labels', () => {
  for (const ok of ['a', 'hello', 'my-app', 'app2', 'a'.repeat(30)]) assert.equal(v.appName(ok), ok);
  for (const bad of [...hostile, 'Hello', '1app', 'app-', 'a'.repeat(31), 'a_b', 'a.b']) {
    assert.throws(() => v.appName(bad), ValidationError, `accepted ${JSON.stringify(bad)}`);
  }
});

test('domains are hostnames, normalised to lower case', () => {
  assert.equal(v.domain('Hello.Localhost'), 'hello.localhost');
  assert.equal(v.domain('a.b.example.com.'), 'a.b.example.com');
  assert.equal(v.domain('xn--caf-dma.example.com'), 'xn--caf-dma.example.com');
  for (const bad of [...hostile, 'localhost', 'a..b', 'a.-b.com', 'a.b-.com', '1.2.3.4', 'a.b.com:80', '*.example.com', 'a.b/c']) {
    assert.throws(() => v.domain(bad), ValidationError, `accepted ${JSON.stringify(bad)}`);
  }
  assert.throws(() => v.domain(`${'a'.repeat(60)}.`.repeat(5) + 'com'), /longer than 253/);
});

test('env keys: identifiers, reserved ones refused', () => {
  assert.equal(v.envKey('SMTP_HOST'), 'SMTP_HOST');
  assert.equal(v.envKey('_x1'), '_x1');
  for (const bad of [...hostile, '1A', 'A-B', 'A=B', 'A.B']) assert.throws(() => v.envKey(bad), ValidationError);
  assert.throws(() => v.envKey('PORT'), /set by berth/);
  assert.deepEqual(v.envPairs(['A=1', 'B=x=y', 'C=']), { A: '1', B: 'x=y', C: '' });
  assert.throws(() => v.envPairs(['novalue']), /not KEY=VALUE/);
  assert.throws(() => v.envPairs(['A=\0']), /NUL/);
});

test('image references follow the docker grammar', () => {
  for (const ok of ['nginx', 'nginx:1.25', 'berth/hello:1', 'localhost:5000/team/app:v1.2.3',
    'registry.example.com/a/b/c@sha256:' + 'a'.repeat(64), 'app:latest@sha256:' + 'b'.repeat(64)]) {
    assert.equal(v.imageRef(ok), ok);
  }
  for (const bad of [...hostile.filter((h) => h !== 'a/b' && !h.endsWith('.com')), 'app/UPPER', 'app:', 'app:tag with space', 'app@sha256:short', ':tag', 'app:-x', '--help']) {
    assert.throws(() => v.imageRef(bad), ValidationError, `accepted ${JSON.stringify(bad)}`);
  }
});

test('health paths, ports, releases and durations', () => {
  assert.equal(v.healthPath('/health'), '/health');
  for (const bad of ['health', '/a b', '/a\nb', '/' + 'a'.repeat(300), '/{x}']) assert.throws(() => v.healthPath(bad), ValidationError);
  assert.equal(v.port('8000'), 8000);
  for (const bad of ['0', '65536', 'x', '80.5', -1]) assert.throws(() => v.port(bad), ValidationError);
  assert.equal(v.releaseId('v12'), 'v12');
  assert.throws(() => v.releaseId('12'), ValidationError);
  assert.equal(v.duration('30s'), 30_000);
  assert.equal(v.duration('5m'), 300_000);
  assert.equal(v.duration('250ms'), 250);
  assert.equal(v.duration(2), 2000);
  assert.throws(() => v.duration('soon'), ValidationError);
});
