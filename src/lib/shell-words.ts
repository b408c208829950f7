// A command line typed as one string (`--release-command "node -e 'process.exit(3)'"`) split
// into its words by the POSIX shell's quoting rules, and nothing more: no shell runs it, so no
// variable, glob, pipe or redirection would happen. Anything a shell would read as one of those
// is refused with a message, rather than passed on as a literal word the user did not mean.
//
// Why our own ~60 lines rather than a library: shell-quote's parse (the usual choice) expands
// `$VAR` from the environment it is given (to '' by default), turns `*` into glob objects and
// `|`, `;`, `(` into operator objects; berth would have to refuse all of those around it anyway,
// and that leaves only the quoting below, which is small, total and tested beside this file.
import { ValidationError } from './errors.js';

const SPACE = new Set([' ', '\t', '\n']);
/** Unquoted, a shell would treat these as syntax or expand them. */
const SPECIAL = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`', '*', '?', '[']);
/** At the start of a word: a comment, or the home directory. */
const SPECIAL_FIRST = new Set(['#', '~']);
const EXPANDED = 'would be expanded by a shell';
const GLOB = 'would be a glob in a shell';
const WHAT: Record<string, string> = { '$': EXPANDED, '`': EXPANDED, '~': EXPANDED, '*': GLOB, '?': GLOB, '[': GLOB, '#': 'starts a comment in a shell' };
/** Inside double quotes a backslash escapes only these (POSIX); before others it stays. */
const DQ_ESCAPES = new Set(['"', '\\', '$', '`']);

const HINT = 'quote it (\'single quotes\' keep everything as it is), give the words one by one with --release-arg, '
  + 'or run a shell on purpose: --release-command "sh -c \'...\'"';

/** Splits `line` into words as a POSIX shell would, with no expansion; throws on what it would expand.
 *  literalDollar: a $ is an ordinary character (a compose file's command, where compose has
 *  interpolated the variables already and what is left came from $$, a literal $ on purpose). */
export function splitWords(line: string, path = 'command', opts: { literalDollar?: boolean } = {}): string[] {
  const words: string[] = [];
  let word: string | null = null; // null: between words ('' is an empty quoted word)
  const refuse = (what: string): never => { throw new ValidationError(path, `${what}; berth runs the command without a shell`, HINT); };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (SPACE.has(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) refuse(`unterminated ' at character ${i + 1}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word = word ?? '';
      for (i++; ; i++) {
        if (i >= line.length) refuse('unterminated "');
        const d = line[i]!;
        if (d === '"') break;
        if ((d === '$' && !opts.literalDollar) || d === '`') refuse(`${d} inside double quotes would be expanded by a shell`);
        if (d === '\\' && i + 1 < line.length && (DQ_ESCAPES.has(line[i + 1]!) || line[i + 1] === '\n')) {
          i++;
          if (line[i] !== '\n') word += line[i];
        } else {
          word += d;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= line.length) refuse('a trailing \\ escapes nothing');
      i++;
      if (line[i] !== '\n') word = (word ?? '') + line[i];
    } else if ((SPECIAL.has(c) && !(c === '$' && opts.literalDollar)) || (word === null && SPECIAL_FIRST.has(c))) {
      refuse(`unquoted ${c} ${WHAT[c] ?? 'is shell syntax'}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  if (!words.length) refuse('the command is empty');
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) refuse(`${words[0]!.split('=')[0]}=... first would set an env var in a shell (berth config set does that)`);
  return words;
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Writes argv back as one line that splitWords reads as the same words (for plans and logs). */
export function quoteWords(argv: string[]): string {
  return argv.map((w) => (PLAIN.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' ');
}
