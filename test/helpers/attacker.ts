// A hostile container on a platform's network: the sample image (it holds node), with berth's
// compiled tests and node_modules mounted read-only, running s3-probe.js. What it prints is
// what any app's container could get from the object store.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeOp, ProbeResult } from './s3-probe.js';
import { docker, type Platform, REPO, SAMPLE } from './platform.js';

export async function probeS3(p: Platform, network: string, endpoint: string, region: string, ops: ProbeOp[]): Promise<ProbeResult[]> {
  const name = `${p.instance}-attacker-${Math.random().toString(36).slice(2, 8)}`;
  const c = await docker.createContainer({
    name, Image: SAMPLE, Cmd: ['/usr/bin/node', '/repo/dist/test/helpers/s3-probe.js', endpoint, region, JSON.stringify(ops)],
    Labels: { 'berth.instance': p.instance, 'berth.role': 'test-attacker' },
    HostConfig: {
      NetworkMode: network,
      Binds: [`${join(REPO, 'dist')}:/repo/dist:ro`, `${realpathSync(join(REPO, 'node_modules'))}:/repo/node_modules:ro`,
        `${join(REPO, 'package.json')}:/repo/package.json:ro`],
    },
  });
  try {
    await c.start();
    const { StatusCode } = await c.wait() as { StatusCode: number };
    const logs = (await c.logs({ stdout: true, stderr: true })).toString('utf8');
    if (StatusCode !== 0) throw new Error(`the probe exited ${StatusCode}: ${logs}`);
    // one short write: one frame of Docker's log stream; its JSON sits between the first [ and the last ]
    return JSON.parse(logs.slice(logs.indexOf('['), logs.lastIndexOf(']') + 1)) as ProbeResult[];
  } finally {
    await c.remove({ force: true });
  }
}
