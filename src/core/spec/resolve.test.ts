import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSpec } from './resolve.js';

const issues = (text: string) => {
  const r = checkSpec({ file: 'berth.yml', readText: (p) => (p === 'berth.yml' ? text : null) });
  return r.ok ? [] : r.issues.map((i) => `${i.line ?? '-'}: ${i.path}: ${i.message}`);
};

test('YAML problems: the line, and nothing parsed from a broken file', () => {
  assert.deepEqual(issues('processes:\n  web: {}\n  web: {}\n'), ['3: : Map keys must be unique']);
  assert.deepEqual(issues('processes:\n  web:\n    command: [a\n'), ['4: : Flow sequence in block collection must be sufficiently indented and end with a ]']);
  assert.deepEqual(issues('a: *x\n'), ['1: : Unresolved alias (the anchor must be set before the alias): x']);
  assert.deepEqual(issues('- web\n'), ['1: : expected a mapping of keys at the top of the file']);
  assert.deepEqual(issues(''), ['-: : the file is empty']);
});

test('problems come sorted by line, each on the line of its key', () => {
  assert.deepEqual(issues('domains: [x]\nprocesses:\n  web:\n    port: x\nproceses: {}\n'), [
    '1: domains.0: "x" is not a valid domain name',
    '4: processes.web.port: expected a port number (1-65535), got a string ("x")',
    '5: proceses: unknown key, did you mean processes?',
  ]);
});

test('merge keys and anchors work in berth.yml too; x- keys at the top hold anchors', () => {
  const r = checkSpec({
    file: 'berth.yml',
    readText: () => 'x-limits: &limits { resources: { memory: 1g } }\nprocesses:\n  web: { <<: *limits }\n',
  });
  assert.ok(r.ok);
  assert.equal(r.spec.processes.web!.resources.memory_mb, 1024);
  const ok = checkSpec({ file: 'berth.yml', readText: () => 'processes:\n  web: &web { resources: { memory: 1g } }\n  worker: { <<: *web, command: w }\n' });
  assert.ok(ok.ok);
  assert.equal(ok.spec.processes.worker!.resources.memory_mb, 1024);
});
