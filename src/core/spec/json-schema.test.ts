import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { berthJsonSchema, berthJsonSchemaText } from './schema.js';

const committed = new URL('../../../../docs/berth.schema.json', import.meta.url);

test('docs/berth.schema.json is the schema berth has (regenerate: berth spec schema > docs/berth.schema.json)', () => {
  assert.equal(readFileSync(committed, 'utf8'), berthJsonSchemaText(),
    'docs/berth.schema.json is stale: run npm run build && bin/berth spec schema > docs/berth.schema.json');
});

test('the JSON Schema describes berth.yml as written: every key, unknown keys refused, shared parts as $defs', () => {
  const s = berthJsonSchema() as { $schema: string; properties: Record<string, unknown>; additionalProperties: boolean; $defs: Record<string, unknown> };
  assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.deepEqual(Object.keys(s.properties), ['compose', 'image', 'build', 'processes', 'release', 'cron', 'domains', 'redirects', 'headers', 'routes',
    'static', 'volumes', 'upstream', 'env']);
  assert.equal(s.additionalProperties, false);
  for (const d of ['build', 'command', 'duration', 'health', 'process-name']) assert.ok(s.$defs[d], d);
  assert.doesNotMatch(JSON.stringify(s), /__schema|"id":/, 'every shared part has a name');
  type Processes = { additionalProperties: { properties: Record<string, { maximum?: number }> } };
  assert.equal((s.properties.processes as Processes).additionalProperties.properties.port!.maximum, 65535);
});
