// What a valid spec may still do that its author did not mean: said, not refused.
import type { AppSpec } from './schema.js';

const SECRET_LOOKING = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_?KEY|SECRET_?KEY|API_?KEY|ACCESS_?KEY|CREDENTIALS?)$/i;

export function specWarnings(s: AppSpec): string[] {
  const w: string[] = [];
  if (s.processes.web && !s.routes.some((r) => r.kind === 'process' && r.process === 'web')) {
    w.push('processes.web: gets no requests (static serves /, and no route points to web): route a path to it, or rename it if it is a worker');
  }
  if (!s.domains.length && (s.routes.length || s.upstream)) w.push('domains: none listed: the app answers on the domains it has (berth apps domains)');
  const envs: [string, Record<string, string>][] = [['env', s.env]];
  for (const [n, p] of Object.entries(s.processes)) envs.push([`processes.${n}.env`, p.env]);
  for (const [at, env] of envs) {
    for (const k of Object.keys(env).filter((k) => SECRET_LOOKING.test(k) && env[k] !== '')) {
      w.push(`${at}.${k}: looks like a secret, kept in the app's description as plain text: berth config set keeps it encrypted`);
    }
  }
  return w;
}
