// docker-buildx, planned as data (pure): its argv and environment for one build, and what its
// plain progress log says when a build fails. The effects are in docker-builder.ts.
import { join } from 'node:path';

export interface BuildxRun {
  binary: string;
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
  labels: Record<string, string>;
  /** Where buildx writes the built image's id. */
  iidFile: string;
}

/** The argv of one build: BuildKit's own (docker) driver on the engine, the image loaded into the
 *  engine untagged (berth tags it after: tags are never moved), plain progress for the log.
 *  `nice` keeps the client's share of the CPU (reading and sending the context) low. */
export function buildxArgv(r: BuildxRun): string[] {
  return [
    'nice', '-n', '10', r.binary, 'build', '--progress=plain', '--load', '--iidfile', r.iidFile,
    '--file', join(r.context, r.dockerfile),
    ...Object.entries(r.args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(r.target ? ['--target', r.target] : []),
    ...Object.entries(r.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    r.context,
  ];
}

/** The environment buildx runs in: the engine's socket, and a config directory of berth's own (a
 *  root user's ~/.docker, its contexts and credential helpers, is not read); only PATH is kept. */
export function buildxEnv(socketPath: string, stateDir: string, path = process.env.PATH): NodeJS.ProcessEnv {
  return {
    PATH: path ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: stateDir, DOCKER_HOST: `unix://${socketPath}`,
    DOCKER_CONFIG: join(stateDir, 'docker'), BUILDX_CONFIG: join(stateDir, 'buildx'),
    // provenance attestations need the containerd image store; the docker driver on 20.10 has none
    BUILDX_NO_DEFAULT_ATTESTATIONS: '1',
  };
}

/**
 * The failing step's output from buildx's plain log: the block it prints between two `------`
 * lines (the step, then its last output lines), and the final ERROR line. Falls back to the
 * log's last lines when no such block is there (a Dockerfile that does not parse).
 */
export function failedStepOutput(log: string[], fallbackLines = 20): string {
  const end = log.lastIndexOf('------');
  const start = end > 0 ? log.lastIndexOf('------', end - 1) : -1;
  const error = [...log].reverse().find((l) => /^ERROR:/.test(l) || /^error:/i.test(l));
  if (start >= 0) return [...log.slice(start + 1, end), ...(error ? [error] : [])].join('\n');
  return log.filter((l) => l.trim()).slice(-fallbackLines).join('\n');
}
