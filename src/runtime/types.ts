// What the deploy engine needs from a container runtime. The single-host Docker driver
// implements it now; a Swarm driver will sit beside it (PRODUCT.md item 11).

export type ProcessType = 'web';

/** One process of one release, as the runtime should run it. */
export interface ProcessSpec {
  app: string;
  release: string; // v3
  process: ProcessType;
  image: string; // an image id or reference already present
  env: Record<string, string>;
  cmd?: string[];
  port: number;
}

export interface Unit {
  id: string;
  name: string;
  app: string;
  release: string;
  process: ProcessType;
  running: boolean;
  exitCode: number | null;
  ip: string | null;
  serving: boolean;
}

export interface ImageInfo { id: string; digest: string | null }

export type Progress = (line: string) => void;

export interface RegistryAuth { username: string; password: string; serveraddress: string }

export interface Runtime {
  /** The engine's version; fails when the engine does not answer. */
  ping(): Promise<{ engine: string }>;
  /** Checks registry credentials with the registry itself. */
  checkAuth(auth: RegistryAuth): Promise<void>;
  /** The DNS name the proxy resolves to reach an app's serving process. */
  servingName(app: string, process: ProcessType): string;
  ensureNetwork(): Promise<void>;
  /** Returns the local image, pulling it first when it is missing. */
  ensureImage(ref: string, auth: RegistryAuth | undefined, progress: Progress): Promise<ImageInfo>;
  /** Starts a release's process beside whatever serves now; it gets no traffic yet. */
  start(spec: ProcessSpec): Promise<Unit>;
  /** Makes this unit the one servingName resolves to; the unit serving before keeps running.
   *  `between` runs mid-switch (crash tests pause there). */
  activate(unit: Unit, between?: () => Promise<void>): Promise<void>;
  /** Runs a command to completion in a one-off container of a release (migrations). */
  runOnce(spec: ProcessSpec, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  inspect(app: string, process: ProcessType, release: string): Promise<Unit | null>;
  list(app?: string): Promise<Unit[]>;
  stop(unit: Unit, graceMs: number): Promise<void>;
  remove(unit: Unit): Promise<void>;
  /** Logs of an app's unit, or of any container berth runs (a shared service): by id or name. */
  logs(unit: Pick<Unit, 'id' | 'name'>, tail: number): Promise<string>;
  followLogs(unit: Pick<Unit, 'id' | 'name'>, tail: number, onLine: (chunk: string) => void, signal: AbortSignal): Promise<void>;
  removeImage(id: string): Promise<void>;
}
