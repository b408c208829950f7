// A builder for unit tests of the engine: no files are read and nothing runs; each build makes a
// new image in the fake runtime, or fails the way a real failing step does when told to.
import { BerthError } from '../../lib/errors.js';
import type { ImageInfo, Progress } from '../types.js';
import type { Builder, BuildRequest, BuildResult } from './types.js';

export class FakeBuilder implements Builder {
  readonly builds: BuildRequest[] = [];
  /** The next build fails with this step output. */
  failNext: string | undefined;
  /** Builds wait until this resolves (or their signal aborts). */
  hold: Promise<void> | undefined;
  private seq = 0;

  constructor(private readonly addImage: (ref: string) => ImageInfo) {}

  async build(req: BuildRequest, progress: Progress, signal: AbortSignal): Promise<BuildResult> {
    this.builds.push(req);
    progress(`#1 [1/1] fake build of ${req.context}`);
    if (this.hold) {
      await new Promise<void>((res, rej) => {
        void this.hold!.then(res);
        signal.addEventListener('abort', () => rej(new BerthError('aborted', 'the build was cancelled')), { once: true });
      });
    }
    if (signal.aborted) throw new BerthError('aborted', 'the build was cancelled');
    const output = this.failNext;
    this.failNext = undefined;
    if (output !== undefined) {
      throw new BerthError('command_failed', 'build failed: fake step', 'fix the step above', { logs: output.split('\n'), log_of: 'the failing build step' });
    }
    const tag = `berth/${req.app}:build-fake${++this.seq}`;
    return { imageId: this.addImage(tag).id, tag, builder: 'engine' };
  }
}
