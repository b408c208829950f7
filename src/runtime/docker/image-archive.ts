// Images as files, for the platform backup (`berth backup platform --images`) and restore-host:
// `docker save` streamed from the Engine API into a file (memory flat whatever the image's size),
// and the same file streamed back into `docker load` on another engine. Saved by reference, so
// that the tag a release names comes back with it.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../../lib/errors.js';
import { ndjson } from '../../lib/ndjson.js';
import type { EngineApi } from './engine-api.js';

const IMAGE_TIMEOUT_MS = 3600_000;

export async function saveImageTo(api: EngineApi, ref: string, file: string): Promise<void> {
  const res = await api.open('GET', `/images/${encodeURIComponent(ref)}/get`, `save image ${ref}`, { timeoutMs: IMAGE_TIMEOUT_MS });
  await pipeline(res, createWriteStream(file, { mode: 0o600 }));
}

/** Loads an image file; the engine's answer says what it loaded, or why it could not. */
export async function loadImageFrom(api: EngineApi, file: string): Promise<string> {
  const res = await api.open('POST', '/images/load', `load the image in ${file}`, {
    raw: createReadStream(file), headers: { 'content-type': 'application/x-tar' }, query: { quiet: true }, timeoutMs: IMAGE_TIMEOUT_MS,
  });
  const lines: { stream?: string; error?: string }[] = [];
  for await (const l of ndjson<{ stream?: string; error?: string }>(res)) lines.push(l);
  const bad = lines.find((l) => l.error);
  if (bad) throw new BerthError('command_failed', `loading the image in ${file} failed: ${bad.error}`);
  return lines.map((l) => l.stream ?? '').join('').trim();
}
