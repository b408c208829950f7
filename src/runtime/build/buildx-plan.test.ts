import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildxArgv, buildxEnv, failedStepOutput } from './buildx-plan.js';

test('buildx runs with an argv: nice, plain progress, loaded into the engine, its image id in a file', () => {
  assert.deepEqual(buildxArgv({
    binary: '/cache/docker-buildx', context: '/src/app', dockerfile: 'docker/Dockerfile', args: { NODE_ENV: 'production', EMPTY: '' },
    target: 'prod', labels: { 'berth.app': 'web' }, iidFile: '/state/iid',
  }), [
    'nice', '-n', '10', '/cache/docker-buildx', 'build', '--progress=plain', '--load', '--iidfile', '/state/iid', '--file', '/src/app/docker/Dockerfile',
    '--build-arg', 'NODE_ENV=production', '--build-arg', 'EMPTY=', '--target', 'prod', '--label', 'berth.app=web', '/src/app',
  ]);
  const plain = buildxArgv({ binary: 'bx', context: '/c', dockerfile: 'Dockerfile', args: {}, labels: {}, iidFile: '/i' });
  assert.ok(!plain.includes('--target') && !plain.includes('--build-arg'));
});

test('a value with spaces or shell syntax stays one argument', () => {
  const argv = buildxArgv({ binary: 'bx', context: '/c', dockerfile: 'Dockerfile', args: { A: 'x; rm -rf / $(id)' }, labels: {}, iidFile: '/i' });
  assert.equal(argv[argv.indexOf('--build-arg') + 1], 'A=x; rm -rf / $(id)');
});

test("buildx's environment: the engine's socket and berth's own config, nothing of root's", () => {
  assert.deepEqual(buildxEnv('/var/run/docker.sock', '/data/berth/state/build', '/usr/bin:/bin'), {
    PATH: '/usr/bin:/bin', HOME: '/data/berth/state/build', DOCKER_HOST: 'unix:///var/run/docker.sock',
    DOCKER_CONFIG: '/data/berth/state/build/docker', BUILDX_CONFIG: '/data/berth/state/build/buildx', BUILDX_NO_DEFAULT_ATTESTATIONS: '1',
  });
});

const FAILED = `#4 [1/2] FROM docker.io/berth/hello:1
#4 CACHED
#5 [2/2] RUN ["/usr/bin/node","-e","process.exit(3)"]
#5 0.246 step output line 1
#5 0.247 boom on stderr
#5 ERROR: executor failed running [/usr/bin/node -e process.exit(3)]: exit code: 3
------
 > [2/2] RUN ["/usr/bin/node","-e","process.exit(3)"]:
0.246 step output line 1
0.247 boom on stderr
------
ERROR: failed to build: failed to solve: executor failed running [/usr/bin/node -e process.exit(3)]: exit code: 3`.split('\n');

test("the failing step's output is the block buildx prints at the end, with the error", () => {
  assert.equal(failedStepOutput(FAILED), [
    ' > [2/2] RUN ["/usr/bin/node","-e","process.exit(3)"]:', '0.246 step output line 1', '0.247 boom on stderr',
    'ERROR: failed to build: failed to solve: executor failed running [/usr/bin/node -e process.exit(3)]: exit code: 3',
  ].join('\n'));
});

test('without such a block (a Dockerfile that does not parse) it is the last lines', () => {
  const log = ['#1 [internal] load build definition from Dockerfile', '', 'ERROR: failed to solve: dockerfile parse error line 2: unknown instruction: RUNX'];
  assert.equal(failedStepOutput(log, 5), [log[0], log[2]].join('\n'));
});
