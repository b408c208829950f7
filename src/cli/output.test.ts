import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../lib/errors.js';
import { errorText } from './output.js';

test('a failed health check with no output says so, never an excerpt of one empty line', () => {
  const e = new BerthError('unhealthy', 'release v1 exited with code 1 before it became healthy', 'fix it', { logs: [''] });
  assert.equal(errorText(e), 'error: release v1 exited with code 1 before it became healthy\nthe release wrote no output\nhint: fix it\n');
  assert.match(errorText(new BerthError('unhealthy', 'x', undefined, { logs: [] })), /the release wrote no output/);
});

test('log lines are shown, blank ones dropped; an error without logs shows none', () => {
  const e = new BerthError('unhealthy', 'x', undefined, { logs: ['listening', '', 'boom'] });
  assert.equal(errorText(e), "error: x\nlast lines of the release's log:\n  | listening\n  | boom\n");
  assert.equal(errorText(new BerthError('not_found', 'no app y', 'berth apps')), 'error: no app y\nhint: berth apps\n');
});
