// A risky command asks first: the user types a word back (the app's name, a backup's id).
// Without a terminal to ask on, it refuses and says how to confirm on the command line.
import { createInterface } from 'node:readline/promises';
import { BerthError } from '../lib/errors.js';

export async function confirmTyped(o: { yes?: boolean; question: string; expect: string; refusal: string; hint: string }): Promise<void> {
  if (o.yes) return;
  if (!process.stdin.isTTY) throw new BerthError('invalid', o.refusal, o.hint);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${o.question} Type ${o.expect} to confirm: `);
  rl.close();
  if (answer.trim() !== o.expect) throw new BerthError('aborted', 'not confirmed; nothing was done');
}
