// "Did you mean ...?" for a key or a name that is not known: the closest known one by edit
// distance, or the berth word for a word people bring from compose or other platforms.

/** Words from docker-compose and other platforms, and what berth calls them. */
const ALIASES: Record<string, string> = {
  services: 'processes', service: 'processes', process: 'processes', environment: 'env', envs: 'env', ports: 'port', expose: 'port',
  healthcheck: 'health', health_check: 'health', cmd: 'command', args: 'command', scale: 'replicas', replica: 'replicas',
  domain: 'domains', hosts: 'domains', redirect: 'redirects', header: 'headers', route: 'routes', volume: 'volumes', mounts: 'volumes',
  dockerfile_path: 'dockerfile', stop_timeout: 'stop_grace_period', grace_period: 'stop_grace_period', limits: 'resources',
  cpu: 'cpus', mem: 'memory', mem_limit: 'memory', tz: 'timezone', time_zone: 'timezone', cronjobs: 'cron', jobs: 'cron',
  schedules: 'cron', migrate: 'release', release_command: 'release', strip: 'strip_prefix', fallback: 'spa', dir: 'root',
};

/** Edit distance where swapping two neighbours counts as one edit (sap -> spa), small strings only. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known word `word` most likely stands for, or null when none is close. */
export function closest(word: string, known: readonly string[]): string | null {
  const w = word.toLowerCase();
  const alias = ALIASES[w];
  if (alias && known.includes(alias)) return alias;
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  // a third of the word may be wrong (at least one letter, so "prt" still finds "port")
  return best !== null && bestDistance <= Math.max(1, Math.floor(w.length / 3)) ? best : null;
}

/** "unknown key, did you mean X?" or the list of known keys. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  return near ? `unknown key, did you mean ${near}?` : `unknown key (known here: ${known.join(', ')})`;
}

/** "no process named X, did you mean Y?" for references to names defined elsewhere in the file. */
export function unknownNameMessage(what: string, name: string, known: readonly string[]): string {
  const near = closest(name, known);
  if (near) return `no ${what} named ${name}, did you mean ${near}?`;
  return known.length ? `no ${what} named ${name} (there are: ${known.join(', ')})` : `no ${what} named ${name} (there are none)`;
}
