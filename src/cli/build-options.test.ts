import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpecFrom } from './build-options.js';

const at = (p: string) => `/home/me/${p}`;

test('--build [DIR] resolves the directory on the CLI side; the current one by default', () => {
  assert.equal(buildSpecFrom({ build: true }, at)!.context, '/home/me/.');
  assert.deepEqual(buildSpecFrom({ build: 'app', buildArg: ['A=1'], target: 'prod', dockerfile: 'Dockerfile.prod' }, at),
    { context: '/home/me/app', args: { A: '1' }, target: 'prod', dockerfile: 'Dockerfile.prod' });
  assert.equal(buildSpecFrom({ image: 'x:1' }, at), undefined);
});

test('build options without --build, or --build with --image, are refused', () => {
  assert.throws(() => buildSpecFrom({ target: 'prod' }, at), /--target needs --build/);
  assert.throws(() => buildSpecFrom({ buildArg: ['A=1'] }, at), /--build-arg needs --build/);
  assert.throws(() => buildSpecFrom({ build: '.', image: 'x:1' }, at), /give --image or --build, not both/);
  assert.throws(() => buildSpecFrom({ build: '.', buildArg: ['bad'] }, at), /is not NAME=VALUE/);
});
