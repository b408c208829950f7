// Builds on Docker Engine: the one place with effects of src/build. BuildKit through docker-buildx
// (its docker driver: the engine's own BuildKit and layer cache) where buildx is there; else the
// engine's classic builder from a tar of the context streamed by tar-fs. Either way the image is
// built untagged and then given its immutable tag, which is never moved to another image.
import { readFileSync, rmSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runLines } from '../../exec/run.js';
import { BerthError } from '../../lib/errors.js';
import { parseImageRef } from '../../lib/image-ref.js';
import { LineSplitter } from '../../lib/lines.js';
import * as v from '../../lib/validate.js';
import { type EngineApi, isNotFound } from '../docker/engine-api.js';
import type { Progress } from '../types.js';
import { findBuildx } from './buildx-install.js';
import { buildxArgv, buildxEnv, failedStepOutput } from './buildx-plan.js';
import { buildTag, contextEntries, contextHash } from './context.js';
import { applyWeight, BUILD_CPU_SHARES, buildkitWeightPlan, type EngineCgroups } from './cpu-weight.js';
import { classicBuildQuery, failedClassicStep } from './engine-plan.js';
import type { Builder, BuildRequest, BuildResult } from './types.js';
import { buildArgs, contextDir, dockerfilePath, mustHaveDockerfile, stageName } from './validate.js';

const BUILD_TIMEOUT_MS = 30 * 60_000;
/** Lines of the log kept to find the failing step in (buildx prints it again at the end). */
const LOG_KEPT = 400;
/** The classic builder colours a step's stderr red with terminal escapes. */
const ANSI = /\x1B\[[0-9;]*m/g;

export interface DockerBuilderOptions {
  /** berth's own directory for buildx's state and config (never root's ~/.docker). */
  stateDir: string;
  /** The docker-buildx to run, or null for the classic builder; looked up at each build when absent. */
  buildx?: string | null;
  timeoutMs?: number;
}

interface Prepared { app: string; context: string; dockerfile: string; args: Record<string, string>; target?: string; hash: string; files: number }

/** The request checked, its context listed (honouring .dockerignore) and hashed. */
async function prepare(req: BuildRequest): Promise<Prepared & { entries: Set<string> }> {
  const app = v.appName(req.app, 'app');
  const context = contextDir(req.context);
  const dockerfile = dockerfilePath(req.dockerfile);
  mustHaveDockerfile(context, dockerfile);
  const args = buildArgs(req.args);
  const target = stageName(req.target);
  const entries = contextEntries(context, dockerfile);
  const hash = await contextHash(context, entries, { dockerfile, args, target });
  return { app, context, dockerfile, args, target, hash, files: entries.filter((e) => e.kind !== 'dir').length, entries: new Set(entries.map((e) => e.path)) };
}

const failure = (summary: string, stepOutput: string, hint: string) =>
  new BerthError('command_failed', `build failed: ${summary}`, hint, { logs: stepOutput.split('\n'), log_of: 'the failing build step' });

export class DockerBuilder implements Builder {
  constructor(private readonly api: EngineApi, private readonly o: DockerBuilderOptions) {}

  private buildx(): string | null { return this.o.buildx !== undefined ? this.o.buildx : findBuildx(); }

  async build(req: BuildRequest, progress: Progress, signal: AbortSignal): Promise<BuildResult> {
    const p = await prepare(req);
    const tag = buildTag(p.app, p.hash);
    const labels = { 'berth.app': p.app, 'berth.build.hash': p.hash.slice(0, 16) };
    const bx = this.buildx();
    const how = bx ? 'BuildKit (docker-buildx)' : "the engine's classic builder";
    progress(`building ${tag} from ${p.context} (${p.files} files after .dockerignore) with ${how}`);
    const imageId = bx ? await this.withBuildx(bx, p, labels, progress, signal) : await this.classic(p, labels, progress, signal);
    return { imageId, tag: await this.tagOnce(imageId, tag, progress), builder: bx ? 'buildx' : 'engine' };
  }

  private async withBuildx(binary: string, p: Prepared, labels: Record<string, string>, progress: Progress, signal: AbortSignal): Promise<string> {
    const info = await this.api.json<EngineCgroups>('GET', '/info', 'info');
    progress(applyWeight(buildkitWeightPlan(info)));
    mkdirSync(this.o.stateDir, { recursive: true, mode: 0o700 });
    const tmp = mkdtempSync(join(this.o.stateDir, 'build-'));
    const iidFile = join(tmp, 'iid');
    const log: string[] = [];
    try {
      const argv = buildxArgv({ binary, context: p.context, dockerfile: p.dockerfile, args: p.args, target: p.target, labels, iidFile });
      const r = await runLines(argv, (line) => {
        if (!line.trim()) return;
        log.push(line);
        if (log.length > LOG_KEPT) log.shift();
        progress(line);
      }, { env: buildxEnv(this.api.socketPath, this.o.stateDir), timeoutMs: this.o.timeoutMs ?? BUILD_TIMEOUT_MS, signal });
      if (r.cancelled) throw new BerthError('aborted', 'the build was cancelled');
      if (r.timedOut) throw new BerthError('timeout', `the build took longer than ${(this.o.timeoutMs ?? BUILD_TIMEOUT_MS) / 60_000} minutes`);
      if (r.code !== 0) {
        const last = [...log].reverse().find((l) => /^ERROR:/.test(l)) ?? `docker-buildx exited with ${r.code}`;
        throw failure(last.replace(/^ERROR:\s*/, ''), failedStepOutput(log), 'fix the step above and deploy again; nothing was changed');
      }
      return readFileSync(iidFile, 'utf8').trim();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  private async classic(p: Prepared & { entries: Set<string> }, labels: Record<string, string>, progress: Progress, signal: AbortSignal): Promise<string> {
    // only what the walk kept (its .dockerignore applied), owned by root as the docker CLI sends it
    const tar = (await import('tar-fs')).default; // on use: the daemon at rest does without it
    const pack = tar.pack(p.context, {
      ignore: (name) => !p.entries.has(relative(p.context, name)),
      map: (h) => ({ ...h, uid: 0, gid: 0, uname: '', gname: '' }),
    });
    const stop = new AbortController();
    let packError: Error | undefined;
    pack.on('error', (e: Error) => { packError = e; stop.abort(); });
    const onAbort = () => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const lines = new LineSplitter();
    const log: string[] = [];
    let imageId: string | undefined;
    const show = (l: string) => { log.push(l); if (log.length > LOG_KEPT) log.shift(); progress(l); };
    try {
      await this.api.progress('POST', '/build', 'build', {
        query: classicBuildQuery({ dockerfile: p.dockerfile, args: p.args, target: p.target, labels, cpuShares: BUILD_CPU_SHARES }),
        raw: pack as unknown as NodeJS.ReadableStream, headers: { 'content-type': 'application/x-tar' },
        timeoutMs: this.o.timeoutMs ?? BUILD_TIMEOUT_MS, signal: stop.signal,
      }, (ev) => {
        if (typeof ev.stream === 'string') lines.push(ev.stream.replace(ANSI, '')).forEach(show);
        const id = (ev.aux as { ID?: unknown } | undefined)?.ID;
        if (typeof id === 'string') imageId = id;
      });
    } catch (e) {
      if (packError) throw new BerthError('unavailable', `cannot read the build context ${p.context}: ${packError.message}`);
      if (signal.aborted) throw new BerthError('aborted', 'the build was cancelled');
      const err = e as BerthError;
      if (err.code !== 'command_failed') throw e;
      lines.end().forEach(show);
      const message = err.message.replace(/^docker: build: /, '');
      throw failure(message, failedClassicStep(log, message), 'fix the step above and deploy again; nothing was changed');
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    lines.end().forEach(show);
    if (!imageId) throw new BerthError('unavailable', 'the engine finished the build without saying which image it made');
    return imageId;
  }

  /** Gives the image its tag. A tag is never moved: when it already names another image (a base
   *  image changed since, or a step is not reproducible), this image gets the tag plus its own id. */
  private async tagOnce(imageId: string, tag: string, progress: Progress): Promise<string> {
    const current = await this.imageIdOf(tag);
    if (current === imageId) {
      progress(`${tag} is the image an earlier build of this source made`);
      return tag;
    }
    const final = current === null ? tag : `${tag}-${imageId.replace(/^sha256:/, '').slice(0, 12)}`;
    if (current !== null) {
      progress(`${tag} names the image an earlier build of this source made (with the other builder, another base image, or a step that is not `
        + `reproducible): this one is ${final}`);
    }
    if (await this.imageIdOf(final) !== imageId) {
      const ref = parseImageRef(final);
      if (!ref?.tag) throw new BerthError('internal', `${final} is not a tagged image reference`);
      await this.api.buffer('POST', `/images/${encodeURIComponent(imageId)}/tag`, `tag ${final}`, { query: { repo: ref.name, tag: ref.tag } });
    }
    return final;
  }

  private async imageIdOf(ref: string): Promise<string | null> {
    try {
      return (await this.api.json<{ Id: string }>('GET', `/images/${encodeURIComponent(ref)}/json`, `inspect image ${ref}`)).Id;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
}
