// Builds of an app's image from a source directory: what core asks for and what it gets back.
// The runtime owns the builder (Runtime.builder), so core never reaches the engine itself and a
// Swarm driver can bring its own.
import type { Progress } from '../types.js';

/** What to build. `context` is an absolute directory on the daemon's host (the CLI runs on the
 *  same host and sends its path, not a tar: see README, "Builds from source"). */
export interface BuildRequest {
  app: string;
  context: string;
  /** Relative to the context, inside it; default `Dockerfile`. */
  dockerfile?: string;
  args?: Record<string, string>;
  /** A stage of a multi-stage Dockerfile; default the last one. */
  target?: string;
}

export interface BuildResult {
  /** The image's id (sha256:...): what the release records, so a rollback runs exactly it. */
  imageId: string;
  /** An immutable tag, berth/APP:build-HASH, never pointed at another image. */
  tag: string;
  /** Which builder ran: BuildKit through docker-buildx, or the engine's classic builder. */
  builder: 'buildx' | 'engine';
}

export interface Builder {
  /** Builds the image. Progress gets the build log line by line; the signal cancels the build.
   *  A failure is a BerthError 'command_failed' whose details.logs holds the failing step's output. */
  build(req: BuildRequest, progress: Progress, signal: AbortSignal): Promise<BuildResult>;
}
