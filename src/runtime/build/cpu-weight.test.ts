import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyWeight, buildkitWeightPlan, sharesToWeight } from './cpu-weight.js';

test("the weight goes to the engine's BuildKit cgroup: cpu.shares on cgroup v1, cpu.weight on v2", () => {
  assert.deepEqual(buildkitWeightPlan({ CgroupDriver: 'cgroupfs', CgroupVersion: '1' }, 64, '/cg'),
    { ok: true, dir: '/cg/cpu/docker/buildkit', file: 'cpu.shares', value: '64' });
  assert.deepEqual(buildkitWeightPlan({ CgroupDriver: 'cgroupfs', CgroupVersion: '2' }, 64, '/cg'),
    { ok: true, dir: '/cg/docker/buildkit', file: 'cpu.weight', value: '3' });
  const systemd = buildkitWeightPlan({ CgroupDriver: 'systemd', CgroupVersion: '2' });
  assert.equal(systemd.ok, false);
});

test("v1 shares convert to v2 weights as runc converts them: the serving apps' 1024 is 39", () => {
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(262144), 10000);
});

test('applying writes the value (creating the cgroup), and says so; a failure is reported, not thrown', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-cg-'));
  const dir = join(root, 'cpu', 'docker', 'buildkit');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpu.shares'), '1024\n');
  assert.match(applyWeight({ ok: true, dir, file: 'cpu.shares', value: '64' }), /CPU weight 64/);
  assert.equal(readFileSync(join(dir, 'cpu.shares'), 'utf8'), '64');
  assert.match(applyWeight({ ok: true, dir: join(root, 'missing'), file: 'cpu.shares', value: '64' }), /not lowered: cannot write .*ENOENT/);
  assert.match(applyWeight({ ok: false, reason: 'systemd' }), /not lowered: systemd/);
});
