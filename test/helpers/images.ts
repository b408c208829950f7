// Variants of the sample image with their own image id (a label differs), for tests that must
// tell which image a release runs.
import { docker, SAMPLE } from './platform.js';
import { streamFrom } from '../../src/exec/run.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Builds SAMPLE + LABEL variant=NAME as tag, once; returns its image id. */
export async function sampleVariant(tag: string): Promise<string> {
  const have = await docker.getImage(tag).inspect().catch(() => null);
  if (have) return have.Id;
  const dir = mkdtempSync(join(tmpdir(), 'berth-variant-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${SAMPLE}\nLABEL berth.test.variant=${JSON.stringify(tag)}\n`);
    const tar = streamFrom(['tar', '-C', dir, '-c', '.']);
    const stream = await docker.buildImage(tar.stdout as NodeJS.ReadableStream, { t: tag });
    await new Promise<void>((res, rej) => docker.modem.followProgress(stream, (e) => (e ? rej(e) : res())));
    await tar.done;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return (await docker.getImage(tag).inspect()).Id;
}

export const imageIdOf = async (ref: string) => (await docker.getImage(ref).inspect()).Id;
