import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { checkSpec } from './resolve.js';

const doc = readFileSync(new URL('../../../../docs/berth-yml.md', import.meta.url), 'utf8');

/** The examples of docs/berth-yml.md: yaml blocks whose first line names their file. */
const examples = [...doc.matchAll(/```yaml\n# (berth\.yml|docker-compose\.yml)\n([\s\S]*?)```/g)].map((m) => ({ file: m[1]!, text: m[2]! }));

test('every example in docs/berth-yml.md is valid', () => {
  assert.ok(examples.length >= 4, `found ${examples.length} examples`);
  for (const { file, text } of examples) {
    // the env files an example names are empty here
    const r = checkSpec({ file, readText: (p) => (p === file ? text : p.endsWith('.env') ? '' : null) });
    assert.ok(r.ok, `${file}:\n${text}\n${r.ok ? '' : r.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`);
  }
});

test('the Towlion example: web from app, the worker on its build, the platform services left out', () => {
  const { text } = examples.find((e) => e.file === 'docker-compose.yml')!;
  const r = checkSpec({ file: 'docker-compose.yml', readText: (p) => (p === 'docker-compose.yml' ? text : p === '.env' ? '' : null) });
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.spec.processes), ['web', 'frontend', 'celery-worker']);
  assert.deepEqual(r.spec.processes['celery-worker']!.build, r.spec.processes.web!.build);
  assert.deepEqual(r.spec.routes.map((x) => [x.path, x.kind === 'process' ? x.process : 'static']), [['/api', 'web'], ['/', 'frontend']]);
  const leftOut = r.warnings.filter((w) => /^services\.[a-z]+: left out: /.test(w)).map((w) => w.split(':')[0]);
  assert.deepEqual(leftOut, ['services.postgres', 'services.redis', 'services.minio']);
});
