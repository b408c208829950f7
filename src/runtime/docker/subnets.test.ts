import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostRoutes, parseCidr, pickSubnet } from './subnets.js';

test('the first free /24 of the pool, skipping Docker networks and host routes that overlap', () => {
  assert.equal(pickSubnet('10.213.0.0/16', 24, []), '10.213.0.0/24');
  assert.equal(pickSubnet('10.213.0.0/16', 24, ['10.213.0.0/24', '10.213.1.0/24']), '10.213.2.0/24');
  assert.equal(pickSubnet('10.213.0.0/16', 24, ['10.213.0.0/23', '172.17.0.0/16']), '10.213.2.0/24');
  assert.equal(pickSubnet('10.213.0.0/16', 24, ['10.213.0.128/25']), '10.213.1.0/24', 'a smaller network inside a /24 takes it');
  assert.equal(pickSubnet('10.213.0.0/16', 24, ['10.0.0.0/8']), null, 'a route covering the pool leaves nothing');
  assert.equal(pickSubnet('10.213.0.0/23', 24, ['10.213.0.0/24', '10.213.1.0/24']), null, 'a full pool');
});

test('CIDRs are validated and normalized', () => {
  assert.deepEqual(parseCidr('10.213.7.9/24'), parseCidr('10.213.7.0/24'));
  assert.throws(() => parseCidr('10.213.0.0'), /not an IPv4 CIDR/);
  assert.throws(() => parseCidr('300.1.1.1/24'), /not an IPv4 CIDR/);
  assert.throws(() => pickSubnet('10.213.0.0/24', 16, []), /does not fit/);
});

test('host routes from /proc/net/route, the default route left out', () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'wg0\t0000D50A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  ].join('\n');
  assert.deepEqual(hostRoutes(table), ['172.17.0.0/16', '192.0.2.0/24', '10.213.0.0/16']);
  assert.equal(pickSubnet('10.213.0.0/16', 24, hostRoutes(table)), null, 'a VPN routing the pool keeps berth out of it');
});
