// Where there is no systemd (containers, some VPS images) `berth up` starts this supervisor, which
// runs the daemon and starts it again whenever it exits, so that a killed daemon is back within
// about a second with nobody acting (its start resolves the deploys it left half done).
//
// Why a POSIX sh loop and not the alternatives:
// - a Node supervisor would cost ~40 MB resident next to a daemon that should stay under 50 MB;
//   /bin/sh (dash on Debian) idles at about 1 MB (measured by test/integration/supervise.test.ts);
// - the daemon as a container with a restart policy would need Node, the code and the host's
//   Docker socket, data root and programs mounted into it, a pid namespace of its own (our pid
//   file and the checks against /proc would name the wrong process), and an image to build
//   before the first daemon can start;
// - the script is a constant: the data root, the pid file and the daemon's argv are passed as
//   positional arguments ("$@"), never spliced into its text, so no path or setting can become code.
//
// It stops for good, rather than restart, when the data root is gone (a removed platform must
// not be recreated by its own daemon), when its pid file names another supervisor (one `berth
// up` replaced it), or when its daemon exits with DAEMON_EXIT_SUPERSEDED (another daemon owns
// the data root now). Restarts back off: at once after a daemon that ran 10 s or more, then
// 0.25 s, 0.5 s, 1 s ... 30 s while it keeps failing at start (Docker down, a broken install).
import { readFileSync } from 'node:fs';
import { DAEMON_EXIT_SUPERSEDED } from '../daemon/exit-codes.js';

/** argv[0] of the script as `ps` and /proc show it: how a supervisor is recognised. */
export const SUPERVISOR_NAME = 'berth-supervisor';
export const SUPERVISOR_SHELL = '/bin/sh';

/** The whole supervisor. $1 data root, $2 its pid file, then the daemon's argv. Its log lines
 *  are JSON like the daemon's (they share the log file), built from numbers only. */
export const SUPERVISOR_SCRIPT = `
root=$1; pidfile=$2; shift 2
echo $$ > "$pidfile"
delay=0
while :; do
  owner=; [ -f "$pidfile" ] && read -r owner < "$pidfile"
  [ "$owner" = "$$" ] || exit 0
  [ -f "$root/berth.json" ] || exit 0
  started=$(date +%s)
  "$@"
  code=$?
  [ "$code" = ${DAEMON_EXIT_SUPERSEDED} ] && exit 0
  ran=$(( $(date +%s) - started ))
  if [ "$ran" -ge 10 ]; then delay=0; elif [ "$delay" = 0 ]; then delay=250; else delay=$(( delay * 2 )); fi
  [ "$delay" -gt 30000 ] && delay=30000
  printf '{"level":40,"time":%s000,"pid":%s,"code":%s,"delay_ms":%s,"msg":"supervisor: the daemon exited; starting it again"}\\n' \\
    "$(date +%s)" "$$" "$code" "$delay"
  [ "$delay" = 0 ] || sleep "$(( delay / 1000 )).$(printf %03d $(( delay % 1000 )))"
done
`;

/** The supervisor's argv (pure): the script, then its arguments. */
export function supervisorArgv(root: string, pidFile: string, daemonArgv: string[]): string[] {
  return [SUPERVISOR_SHELL, '-c', SUPERVISOR_SCRIPT, SUPERVISOR_NAME, root, pidFile, ...daemonArgv];
}

/** The argv of a live process; null when there is no such process. */
export function cmdlineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') return null;
    throw e;
  }
}

/** Whether a process is the supervisor of this data root (a pid file's number may be reused). */
export function isSupervisorOf(pid: number, root: string): boolean {
  const argv = cmdlineOf(pid);
  return argv !== null && argv[3] === SUPERVISOR_NAME && argv[4] === root;
}

/** The supervisor of this data root named by its pid file, if it runs. */
export function runningSupervisor(pidFile: string, root: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return pid > 1 && isSupervisorOf(pid, root) ? pid : null;
}
