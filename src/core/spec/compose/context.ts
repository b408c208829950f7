// What translating one compose file needs around it: where problems go, the variables of the
// deploying user, and the files beside it (env_file:), read through a function so that the
// translation stays pure.
import type { Findings, Path } from '../issues.js';
import type { Env } from '../interpolate.js';

export interface ComposeCtx {
  findings: Findings;
  /** The deploying user's env over the .env file beside the compose file. */
  env: Env;
  /** The compose file's directory, relative to the app's directory ('.' when they are one). */
  dir: string;
  /** A file's text by its path relative to the compose file, or null when there is none. */
  readText(path: string): string | null;
}

/** A value berth took from the compose file: where it went in the model and where it came from. */
export type Origin = [berth: Path, compose: Path];
