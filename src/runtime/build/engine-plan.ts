// The engine's classic builder (POST /build, version 1), planned as data (pure): the query of one
// build and what its JSON stream says. Used where docker-buildx is not there; the classic builder
// is deprecated, so BuildKit through buildx is preferred (docker-builder.ts). BuildKit through
// this same endpoint (version 2) needs a gRPC session the client serves, which berth does not.

export interface ClassicBuild {
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  /** The CPU weight of the build's step containers (the serving apps run at 1024). */
  cpuShares: number;
}

export function classicBuildQuery(b: ClassicBuild): Record<string, string | number | boolean | undefined> {
  return {
    version: '1', dockerfile: b.dockerfile, buildargs: JSON.stringify(b.args), target: b.target,
    labels: JSON.stringify(b.labels), rm: true, forcerm: true, cpushares: b.cpuShares,
  };
}

/** The failing step of a classic build: its `Step N/M` line and what it printed, then the error. */
export function failedClassicStep(log: string[], error: string): string {
  const start = log.map((l) => /^Step \d+\/\d+ :/.test(l)).lastIndexOf(true);
  return [...(start >= 0 ? log.slice(start) : log.slice(-20)), `ERROR: ${error}`].join('\n');
}
