import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changes, payload } from './incidents.js';

test('an incident is told when it opens and when it clears, not while it lasts', () => {
  const a = { key: 'backup shop', detail: 'backups of shop failed' };
  const b = { key: 'backup blog', detail: 'backups of blog stale' };
  assert.deepEqual(changes([a], []), { opened: [a], cleared: [] });
  assert.deepEqual(changes([a], [a]), { opened: [], cleared: [] });
  assert.deepEqual(changes([b], [a]), { opened: [b], cleared: [a] });
  assert.deepEqual(changes([], [b]), { opened: [], cleared: [b] });
});

test('the payload is Slack-compatible: text, with berth\'s own fields beside it', () => {
  const p = payload('cleared', { key: 'backup shop', detail: 'backups of shop failed' }, 'box1');
  assert.match(p.text, /^:large_green_circle: berth on box1: resolved: backups of shop failed$/);
  assert.deepEqual(p.berth, { event: 'cleared', key: 'backup shop', detail: 'backups of shop failed', host: 'box1' });
});
