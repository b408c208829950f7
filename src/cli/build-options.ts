// The build options of `berth deploy`: the source directory is resolved on the CLI's machine
// and sent as a path (the daemon runs on the same host and reads it itself).
import { ValidationError } from '../lib/errors.js';
import { buildArgPairs } from '../runtime/build/validate.js';
import { progress } from './output.js';

export interface BuildOptions { image?: string; build?: string | true; buildArg?: string[]; target?: string; dockerfile?: string }

/** The build part of a deploy body (pure but for the path resolution it is given). */
export function buildSpecFrom(o: BuildOptions, resolvePath: (p: string) => string) {
  if (o.build === undefined) {
    const stray = o.buildArg ? '--build-arg' : o.target ? '--target' : o.dockerfile ? '--dockerfile' : null;
    if (stray) throw new ValidationError(stray.slice(2), `${stray} needs --build`, 'berth deploy APP --build [DIR] ' + stray + ' ...');
    return undefined;
  }
  if (o.image) throw new ValidationError('image', 'give --image or --build, not both');
  return {
    context: resolvePath(o.build === true ? '.' : o.build),
    dockerfile: o.dockerfile, args: o.buildArg ? buildArgPairs(o.buildArg) : undefined, target: o.target,
  };
}

/** Until the returned function is called, Ctrl-C asks the daemon to cancel (once); a second one leaves. */
export function cancelOnInterrupt(cancel: () => Promise<unknown>): () => void {
  let asked = false;
  const onInt = () => {
    if (asked) process.exit(130);
    asked = true;
    progress('cancelling the deploy (Ctrl-C again to leave without waiting)');
    cancel().then(() => undefined, (e: Error) => progress(`could not cancel: ${e.message}`));
  };
  process.on('SIGINT', onInt);
  return () => process.off('SIGINT', onInt);
}
