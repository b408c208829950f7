// What an app's processes may use and do: memory, CPU, processes, Linux capabilities. Defaults
// suit a 4 GB server running many small apps; each app changes them by name. Checked here, at
// the edge, like every other value a user gives.
import { ValidationError } from './errors.js';

export interface Limits { memory_mb: number; cpus: number; pids: number; cap_add: string[] }

/** One process: 512 MB (no swap on top), one core at most, 256 processes and threads. */
export const DEFAULT_LIMITS: Limits = { memory_mb: 512, cpus: 1, pids: 256, cap_add: [] };

/** What an ordinary web app needs of Docker's default set: files it owns, its own user, ports
 *  under 1024, signals. Left out, and added back per app by name: NET_RAW (raw sockets: spoofed
 *  packets on the network), MKNOD, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE. */
export const BASE_CAPS = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'];

const KNOWN_CAPS = new Set([...BASE_CAPS, 'NET_RAW', 'MKNOD', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'AUDIT_READ',
  'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'DAC_READ_SEARCH', 'IPC_LOCK', 'IPC_OWNER', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN', 'MAC_OVERRIDE',
  'NET_ADMIN', 'NET_BROADCAST', 'PERFMON', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE', 'SYS_RAWIO',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM']);

const show = (raw: unknown) => JSON.stringify(String(raw).slice(0, 40));

/** 512m, 1g, 1.5G or a bare number of megabytes, in MB (32 MB to 64 GB). */
export function memoryMb(raw: unknown, path = 'memory'): number {
  const m = typeof raw === 'number' ? [String(raw), String(raw), 'm'] : /^([0-9]+(?:\.[0-9]+)?)([mMgG])?[bB]?$/.exec(String(raw));
  const mb = m ? Math.round(Number(m[1]) * ((m[2] ?? 'm').toLowerCase() === 'g' ? 1024 : 1)) : NaN;
  if (!(mb >= 32 && mb <= 65536)) throw new ValidationError(path, `${show(raw)} is not a memory size from 32m to 64g`, 'use e.g. 256m, 512m or 2g');
  return mb;
}

export function cpus(raw: unknown, path = 'cpus'): number {
  const n = typeof raw === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !(n >= 0.05 && n <= 256)) {
    throw new ValidationError(path, `${show(raw)} is not a number of CPUs from 0.05 to 256`, 'use e.g. 0.5, 1 or 2');
  }
  return Math.round(n * 100) / 100;
}

export function pids(raw: unknown, path = 'pids'): number {
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 16 || n > 65536) {
    throw new ValidationError(path, `${show(raw)} is not a process limit from 16 to 65536`, 'it counts processes and threads; 256 suits most web apps');
  }
  return n;
}

/** A Linux capability by name (NET_RAW or CAP_NET_RAW), upper-cased. */
export function capability(raw: unknown, path = 'cap_add'): string {
  const name = String(raw).toUpperCase().replace(/^CAP_/, '');
  if (!KNOWN_CAPS.has(name)) throw new ValidationError(path, `${show(raw)} is not a Linux capability`, 'see man 7 capabilities, e.g. NET_RAW or SYS_PTRACE');
  return name;
}

/** The limits a process gets: the app's own settings over the defaults. */
export const effectiveLimits = (own: Partial<Limits>): Limits => ({ ...DEFAULT_LIMITS, ...own, cap_add: [...new Set(own.cap_add ?? [])].sort() });
