import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteWords, splitWords } from './shell-words.js';
import { ValidationError } from './errors.js';

test('words are split as a POSIX shell splits them, quotes kept together and removed', () => {
  assert.deepEqual(splitWords("node -e 'process.exit(3)'"), ['node', '-e', 'process.exit(3)']);
  assert.deepEqual(splitWords('  rake   db:migrate\t'), ['rake', 'db:migrate']);
  assert.deepEqual(splitWords(`echo "two words" 'it'\\''s' "say \\"hi\\"" a\\ b ''`), ['echo', 'two words', "it's", 'say "hi"', 'a b', '']);
  assert.deepEqual(splitWords('x "back\\slash" "\\\\" \'$HOME\' "a"\'b\'c'), ['x', 'back\\slash', '\\', '$HOME', 'abc']);
  assert.deepEqual(splitWords('a \\\nb'), ['a', 'b'], 'a backslash-newline continues the line');
  assert.deepEqual(splitWords('python manage.py migrate --noinput'), ['python', 'manage.py', 'migrate', '--noinput']);
  assert.deepEqual(splitWords('x a=b a~b c#d'), ['x', 'a=b', 'a~b', 'c#d'], 'only a word that starts with ~ or # is special');
});

test('what a shell would expand or treat as syntax is refused, never passed on as a word', () => {
  const refused = ['a && b', 'a | b', 'a; b', 'a > f', 'a < f', 'a & b', 'node -e setTimeout(()=>{})', 'echo $HOME', 'echo "$HOME"', 'echo `id`',
    'ls *.sql', 'ls ?', 'ls [ab]', "echo 'open", 'echo "open', 'echo \\', '', '   ', 'x #comment', '~/bin/run', 'RAILS_ENV=production rake db:migrate'];
  for (const line of refused) {
    assert.throws(() => splitWords(line, 'release_command'), (e: unknown) => e instanceof ValidationError && e.path === 'release_command' && !!e.hint, line);
  }
});

test('literalDollar: a $ is kept as written (compose has interpolated already); the rest stays refused', () => {
  const opts = { literalDollar: true };
  assert.deepEqual(splitWords('sh -c "exec uvicorn app:app --port $PORT"', 'command', opts), ['sh', '-c', 'exec uvicorn app:app --port $PORT']);
  assert.deepEqual(splitWords('echo $HOME', 'command', opts), ['echo', '$HOME']);
  for (const line of ['a && b', 'echo `id`', 'ls *.sql']) assert.throws(() => splitWords(line, 'command', opts), ValidationError, line);
});

test('quoteWords writes argv back so that splitWords reads the same words', () => {
  const argv = ['node', '-e', 'process.exit(3)', "it's", '', 'a b', '$HOME', '"', '\\', 'plain-word_1.2:/x=y,z@%+', '*', '~', 'tab\there'];
  assert.equal(quoteWords(['rake', 'db:migrate']), 'rake db:migrate');
  assert.equal(quoteWords(['node', '-e', 'process.exit(3)']), "node -e 'process.exit(3)'");
  assert.deepEqual(splitWords(quoteWords(argv)), argv);
});
