import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDotenv } from './dotenv.js';
import { interpolate } from './interpolate.js';

const env = { A: 'a', EMPTY: '', TAG: '1.2' };
const value = (s: string) => interpolate(s, env).value;

test('compose interpolation: every form, $$ as a literal $, nested defaults', () => {
  assert.equal(value('x-${A}-$A-$$A-$$'), 'x-a-a-$A-$');
  assert.equal(value('${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET:-d}'), 'd  d d');
  assert.equal(value('${A:+yes} ${EMPTY:+yes} ${EMPTY+yes} ${UNSET+yes}'), 'yes  yes ');
  assert.equal(value('${UNSET:-${TAG:-x}}/${UNSET:-${ALSO_UNSET:-deep}}'), '1.2/deep');
  assert.equal(value('cost: $ 5, ${A}}'), 'cost: $ 5, a}', 'a lone $ and a stray } stay');
  assert.deepEqual(interpolate('${NOPE} $NOPE2', env).unset, ['NOPE', 'NOPE2']);
  assert.deepEqual(interpolate('${UNSET:-x}', env).unset, [], 'a default is no warning');
});

test('interpolation errors: required variables and broken syntax', () => {
  assert.equal(interpolate('${A:?need A}', env).error, undefined);
  assert.equal(interpolate('${EMPTY:?need it}', env).error, 'EMPTY is required: need it (set it in your environment or in .env beside the compose file)');
  assert.equal(interpolate('${EMPTY?need it}', env).error, undefined, 'without the colon, empty is set');
  assert.match(interpolate('${UNSET?}', env).error!, /^UNSET is required \(/);
  assert.match(interpolate('${A', env).error!, /without a closing \}/);
  assert.match(interpolate('${1A}', env).error!, /is not a variable/);
  assert.match(interpolate('${A*b}', env).error!, /unexpected "\*" after A/);
});

test('.env files: comments, export, quotes, escapes, earlier values and the given env', () => {
  const r = parseDotenv([
    '# comment', '', 'export A=1', 'B = two words  # trailing comment', "C='${A} stays'", 'D="line\\nnext \\"q\\""', 'E=${A}-${GIVEN}',
    'F="${B}"', 'G=', 'H=a#b', 'not a line', 'I="open',
  ].join('\n'), { GIVEN: 'g' });
  assert.deepEqual(r.values, { A: '1', B: 'two words', C: '${A} stays', D: 'line\nnext "q"', E: '1-g', F: 'two words', G: '', H: 'a#b' });
  assert.deepEqual(r.errors, [{ line: 11, message: 'expected KEY=VALUE' }, { line: 12, message: 'unterminated "' }]);
});
