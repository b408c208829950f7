// The host's address on a Docker bridge network: where a container reaches a server on the host.
import { execFileSync } from 'node:child_process';
import { docker } from './platform.js';

/** Its IPAM gateway, or else the bridge interface's own address: a Docker Engine 20.10 started for
 *  the first time lists the default bridge with no Gateway (seen in CI; it does after a restart).
 *  `ip`, not os.networkInterfaces(): that leaves out a bridge with no container on it (NO-CARRIER,
 *  so not RUNNING). '' when neither says. */
export async function hostAddressOn(network: string): Promise<string> {
  const net = await docker.getNetwork(network).inspect();
  const gateway = (net.IPAM?.Config as { Gateway?: string }[] | undefined)?.find((c) => c.Gateway)?.Gateway;
  if (gateway) return gateway;
  const ifname = net.Options?.['com.docker.network.bridge.name'] ?? (net.Name === 'bridge' ? 'docker0' : `br-${String(net.Id).slice(0, 12)}`);
  const shown = JSON.parse(execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', ifname], { encoding: 'utf8' }) || '[]') as
    { addr_info?: { local?: string }[] }[];
  return shown[0]?.addr_info?.[0]?.local ?? '';
}
