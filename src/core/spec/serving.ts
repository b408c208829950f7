// The process a description serves its domains with (pure): the one whose image, port and
// health check the release's own are, started first, health-checked and switched.
import { WEB } from '../../runtime/types.js';

interface Served { processes: Record<string, unknown>; routes: readonly ({ kind: 'process'; process: string } | { kind: 'static' })[] }

/** web, else the one the widest route goes to, else the first by name. */
export function primaryProcess(spec: Served): string | null {
  if (spec.processes[WEB]) return WEB;
  const routed = [...spec.routes].reverse().find((r) => r.kind === 'process');
  if (routed && routed.kind === 'process') return routed.process;
  return Object.keys(spec.processes).sort()[0] ?? null;
}
