import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classicBuildQuery, failedClassicStep } from './engine-plan.js';
import { LineSplitter } from '../../lib/lines.js';

test('the classic build asks for the Dockerfile, args, target, labels and a low CPU weight, untagged', () => {
  assert.deepEqual(classicBuildQuery({ dockerfile: 'Dockerfile', args: { A: '1' }, target: 'prod', labels: { 'berth.app': 'web' }, cpuShares: 64 }), {
    version: '1', dockerfile: 'Dockerfile', buildargs: '{"A":"1"}', target: 'prod', labels: '{"berth.app":"web"}', rm: true, forcerm: true, cpushares: 64,
  });
});

test('stream chunks become whole lines; a partial one waits', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('Step 1/2 : FROM x\n ---> ab'), ['Step 1/2 : FROM x']);
  assert.deepEqual(s.push('c\n\n'), [' ---> abc']);
  assert.deepEqual(s.push('tail'), []);
  assert.deepEqual(s.end(), ['tail']);
});

test("the failing step's output starts at its Step line", () => {
  const log = ['Step 1/2 : FROM x', ' ---> 1', 'Step 2/2 : RUN make', ' ---> Running in c', 'cc: error', 'Removing intermediate container c'];
  assert.equal(failedClassicStep(log, "The command 'make' returned a non-zero code: 2"),
    "Step 2/2 : RUN make\n ---> Running in c\ncc: error\nRemoving intermediate container c\nERROR: The command 'make' returned a non-zero code: 2");
});
