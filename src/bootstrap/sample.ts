// The bundled sample app as an image built locally (no registry needed): node from the host
// with its libraries, and sample/hello/server.js.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EngineApi } from '../runtime/docker/engine-api.js';
import { sourceFile } from '../lib/install.js';
import { buildScratchImage, imageLabel } from '../runtime/docker/images.js';

export { SAMPLE_IMAGE } from './sample-image.js';
export const sampleSource = () => sourceFile('sample', 'hello', 'server.js');

/** Changes whenever the sample's source changes, so a stale image is rebuilt. */
export const sampleHash = () => createHash('sha256').update(readFileSync(sampleSource())).digest('hex').slice(0, 16);

export async function sampleIsCurrent(api: EngineApi, tag: string): Promise<boolean> {
  return await imageLabel(api, tag, 'berth.sample.hash') === sampleHash();
}

export async function buildSampleImage(api: EngineApi, tag: string, progress: (l: string) => void): Promise<void> {
  await buildScratchImage(api, {
    tag,
    programs: [{ from: process.execPath, to: '/usr/bin/node' }],
    files: [{ from: sampleSource(), to: '/app/server.js', mode: 0o644 }],
    dirs: ['/tmp'],
    dockerfileTail: ['WORKDIR /app', 'ENV PORT=8000', 'EXPOSE 8000', 'CMD ["/usr/bin/node","/app/server.js"]'],
    labels: { 'berth.sample': 'hello', 'berth.sample.hash': sampleHash() },
  }, progress);
}
