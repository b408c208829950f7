import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildArgPairs, buildArgs, contextDir, dockerfilePath, mustHaveDockerfile, stageName } from './validate.js';

test('the context is an absolute directory that exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-v-'));
  assert.equal(contextDir(dir), dir);
  assert.throws(() => contextDir('relative/dir'), /build.context: "relative\/dir" is not an absolute path/);
  assert.throws(() => contextDir(join(dir, 'missing')), /is not a directory on the daemon's host/);
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => contextDir(join(dir, 'file')), /is not a directory/);
  assert.throws(() => contextDir(''), /is required/);
});

test('the Dockerfile is a path inside the context', () => {
  assert.equal(dockerfilePath(undefined), 'Dockerfile');
  assert.equal(dockerfilePath('./docker//Dockerfile.prod'), 'docker/Dockerfile.prod');
  for (const bad of ['../Dockerfile', '/etc/passwd', 'a/../../b', '.', 'dir/']) {
    assert.throws(() => dockerfilePath(bad), /is not a file inside the build context/, bad);
  }
  const dir = mkdtempSync(join(tmpdir(), 'berth-v-'));
  assert.throws(() => mustHaveDockerfile(dir, 'Dockerfile'), /Dockerfile does not exist/);
  writeFileSync(join(dir, 'Dockerfile'), 'FROM x');
  mustHaveDockerfile(dir, 'Dockerfile');
});

test('build args: NAME=VALUE with a valid name; the value may be empty or hold =', () => {
  assert.deepEqual(buildArgPairs(['A=1', 'B=', 'C=x=y']), { A: '1', B: '', C: 'x=y' });
  assert.throws(() => buildArgPairs(['=1']), /is not NAME=VALUE/);
  assert.throws(() => buildArgPairs(['NOVALUE']), /is not NAME=VALUE/);
  assert.throws(() => buildArgPairs(['1A=x']), /is not a valid build-arg name/);
  assert.throws(() => buildArgPairs(['A-B=x']), /is not a valid build-arg name/);
  assert.throws(() => buildArgs({ A: 1 }), /build.args.A: must be a string/);
  assert.throws(() => buildArgs({ A: 'a\0b' }), /NUL/);
  assert.throws(() => buildArgs(['A=1']), /must be an object/);
});

test('a target is a stage name', () => {
  assert.equal(stageName(undefined), undefined);
  assert.equal(stageName('prod-1.2_x'), 'prod-1.2_x');
  for (const bad of ['', '1st', '-x', 'a b', 'a;b', 'x'.repeat(129)]) assert.throws(() => stageName(bad), /is not a valid stage name/, bad);
});
