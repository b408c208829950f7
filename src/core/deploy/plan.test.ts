import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStep, planDeploy, type PlanInput, releaseNamer, type ReleaseView } from './plan.js';

const rel = (id: number, state: ReleaseView['state'], port = 8000): ReleaseView => ({ id, seq: id, state, port, image_id: `sha256:${id}` });
const target = (id: number, port = 8000) => ({ ...rel(id, 'pending', port), image: 'app:1', health_path: '/health' });
const base = { kind: 'deploy' as const, deployTimeoutMs: 60_000, refreshMs: 100, keepReleases: 5, targetRunning: false };

test('first deploy: pull, start, health, route, switch; no settle', () => {
  const p = planDeploy({ ...base, target: target(1), live: null, releases: [rel(1, 'pending')] });
  assert.deepEqual(p.map((s) => s.kind), ['pull', 'start', 'health', 'route', 'switch']);
  assert.deepEqual(p[4], { kind: 'switch', from: null, to: 1 });
});

test('a normal deploy leaves the route alone and settles after the switch', () => {
  const live = rel(2, 'live');
  const p = planDeploy({ ...base, target: target(3), live, releases: [rel(3, 'pending'), live, rel(1, 'warm')] });
  assert.deepEqual(p.map((s) => s.kind), ['pull', 'start', 'health', 'switch', 'settle', 'retire']);
  assert.deepEqual(p.find((s) => s.kind === 'retire'), { kind: 'retire', releases: [1] });
  assert.deepEqual(p.find((s) => s.kind === 'settle'), { kind: 'settle', ms: 115 });
});

test('a port change updates the route; a release command runs before start', () => {
  const live = rel(1, 'live', 8000);
  const p = planDeploy({ ...base, target: target(2, 3000), live, releases: [rel(2, 'pending', 3000), live], releaseCommand: ['migrate'] });
  assert.deepEqual(p.map((s) => s.kind), ['pull', 'release_command', 'start', 'health', 'route', 'switch', 'settle']);
});

test('a warm rollback skips pull and start but keeps the health gate', () => {
  const live = rel(5, 'live');
  const warm = { ...rel(4, 'warm'), image: 'app:4', health_path: '/health' };
  const p = planDeploy({ ...base, kind: 'rollback', target: warm, live, releases: [live, rel(4, 'warm'), rel(3, 'stopped')], targetRunning: true });
  assert.deepEqual(p.map((s) => s.kind), ['health', 'switch', 'settle']);
});

test('releases beyond the newest five are pruned, never the live or target one', () => {
  const releases = [8, 7, 6, 5, 4, 3, 2, 1].map((id) => rel(id, id === 7 ? 'live' : id === 1 ? 'pruned' : 'stopped'));
  releases[0] = rel(8, 'pending');
  const p = planDeploy({ ...base, target: target(8), live: releases[1]!, releases } satisfies PlanInput);
  assert.deepEqual(p.find((s) => s.kind === 'prune'), { kind: 'prune', releases: [3, 2] });
  const rollbackToOld = planDeploy({ ...base, kind: 'rollback', target: { ...target(2) }, live: releases[1]!, releases, targetRunning: false });
  assert.deepEqual(rollbackToOld.find((s) => s.kind === 'prune'), { kind: 'prune', releases: [3] });
});

test('the plan shows a release command quoted as it will run, word for word', () => {
  assert.equal(describeStep({ kind: 'release_command', cmd: ['node', '-e', 'process.exit(3)', "it's"] }, (id) => `v${id}`),
    "run release command: node -e 'process.exit(3)' 'it'\\''s'");
});

test('the plan names releases vN, as everything else does, not by their row ids', () => {
  // row ids count across all apps: this app's v7 can be row 9
  const live = { ...rel(9, 'live'), seq: 7 };
  const warm = { ...rel(4, 'warm'), seq: 6 };
  const input = { ...base, target: { ...target(12), seq: 8 }, live, releases: [{ ...rel(12, 'pending'), seq: 8 }, live, warm] };
  const text = planDeploy(input).map((s) => describeStep(s, releaseNamer(input)));
  assert.ok(text.includes('start release v8 beside the live one'), text.join('\n'));
  assert.ok(text.includes('switch traffic from release v7 to v8'), text.join('\n'));
  assert.ok(text.includes('end the warm window of older releases v6 (stopped right after)'), text.join('\n'));
  assert.ok(!text.some((l) => l.includes('#')), text.join('\n'));
});
