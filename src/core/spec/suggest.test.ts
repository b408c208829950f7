import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from './suggest.js';

test('the closest known word: typos, swapped letters, words from compose', () => {
  assert.equal(editDistance('sap', 'spa'), 1);
  assert.equal(editDistance('proceses', 'processes'), 1);
  const keys = ['processes', 'release', 'cron', 'domains', 'env', 'static', 'routes'];
  assert.equal(closest('proceses', keys), 'processes');
  assert.equal(closest('Domains', keys), 'domains');
  assert.equal(closest('environment', keys), 'env', 'compose\'s word');
  assert.equal(closest('services', keys), 'processes');
  assert.equal(closest('xyzzy', keys), null);
  assert.equal(closest('prt', ['port', 'path']), 'port');
});
