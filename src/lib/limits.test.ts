import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capability, cpus, DEFAULT_LIMITS, effectiveLimits, memoryMb, pids } from './limits.js';

test('memory sizes in m or g, or bare megabytes; out of range or garbage refused with the fix', () => {
  assert.equal(memoryMb('512m'), 512);
  assert.equal(memoryMb('1g'), 1024);
  assert.equal(memoryMb('1.5G'), 1536);
  assert.equal(memoryMb('256'), 256);
  assert.equal(memoryMb(300), 300);
  for (const bad of ['16m', '100g', '1t', '-1g', 'lots', '']) assert.throws(() => memoryMb(bad), /memory: .* is not a memory size/);
});

test('cpus, pids and capabilities are checked', () => {
  assert.equal(cpus('0.5'), 0.5);
  assert.equal(cpus(2), 2);
  assert.throws(() => cpus('0'), /cpus/);
  assert.throws(() => cpus('many'), /cpus/);
  assert.equal(pids('64'), 64);
  assert.throws(() => pids('8'), /pids/);
  assert.throws(() => pids('1.5'), /pids/);
  assert.equal(capability('net_raw'), 'NET_RAW');
  assert.equal(capability('CAP_SYS_PTRACE'), 'SYS_PTRACE');
  assert.throws(() => capability('ALL'), /not a Linux capability/);
  assert.throws(() => capability('NET_RAW; rm -rf /'), /not a Linux capability/);
});

test('an app\'s own limits over the defaults', () => {
  assert.deepEqual(effectiveLimits({}), DEFAULT_LIMITS);
  assert.deepEqual(effectiveLimits({ memory_mb: 128, cap_add: ['NET_RAW', 'NET_RAW'] }), { ...DEFAULT_LIMITS, memory_mb: 128, cap_add: ['NET_RAW'] });
});
