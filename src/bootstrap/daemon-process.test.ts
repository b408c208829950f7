import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathsFor } from '../state/paths.js';
import { DAEMON_EXIT_SUPERSEDED } from '../daemon/exit-codes.js';
import { daemonArgv, DAEMON_NODE_FLAGS, systemdUnit } from './daemon-process.js';

test('systemd and the supervisor run the same daemon argv; systemd does not restart a superseded daemon', () => {
  const p = pathsFor('/data/berth');
  assert.deepEqual(daemonArgv(p, '/opt/node', '/opt/berth/main.js'), ['/opt/node', ...DAEMON_NODE_FLAGS, '/opt/berth/main.js', '--root', '/data/berth']);
  const unit = systemdUnit(p, '/opt/node', '/opt/berth/main.js');
  assert.match(unit, new RegExp(`^ExecStart=/opt/node ${DAEMON_NODE_FLAGS.join(' ')} /opt/berth/main.js --root /data/berth$`, 'm'));
  assert.match(unit, /^Restart=always$/m);
  assert.match(unit, new RegExp(`^RestartPreventExitStatus=${DAEMON_EXIT_SUPERSEDED}$`, 'm'));
});
