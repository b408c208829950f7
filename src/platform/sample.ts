// The bundled sample app as an image built locally (no registry needed): node from the host
// with its libraries, and sample/hello/server.js.
import type { EngineApi } from '../runtime/docker/engine-api.js';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScratchImage } from './images.js';

export const SAMPLE_IMAGE = 'berth/hello:1';
export const sampleSource = () => resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sample', 'hello', 'server.js');

export async function buildSampleImage(api: EngineApi, tag: string, progress: (l: string) => void): Promise<void> {
  await buildScratchImage(api, {
    tag,
    programs: [{ from: process.execPath, to: '/usr/bin/node' }],
    files: [{ from: sampleSource(), to: '/app/server.js', mode: 0o644 }],
    dirs: ['/tmp'],
    dockerfileTail: ['WORKDIR /app', 'ENV PORT=8000', 'EXPOSE 8000', 'CMD ["/usr/bin/node","/app/server.js"]'],
    labels: { 'berth.sample': 'hello' },
  }, progress);
}
