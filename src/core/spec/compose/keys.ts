// The keys of a compose file's service (the Compose Specification's list), each either read
// into the app's model or reported with why berth leaves it out: nothing is dropped silently.

/** Read by service.ts. */
export const READ = ['image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'healthcheck', 'depends_on',
  'volumes', 'deploy', 'stop_grace_period', 'networks', 'cpus', 'mem_limit', 'scale', 'profiles'] as const;

/** Known to compose, not done by berth; the reason where one helps. */
export const NOT_SUPPORTED: Record<string, string> = {
  restart: 'berth restarts processes itself',
  container_name: 'berth names containers per release',
  hostname: 'processes reach each other by service name on the app\'s network',
  labels: 'berth labels its containers itself',
  logging: 'berth keeps the logs: berth logs NAME',
  privileged: 'apps run with the capabilities a web app needs; berth apps limits --cap-add adds one',
  cap_add: 'use berth apps limits --cap-add',
  cap_drop: 'apps run with the capabilities a web app needs only',
  network_mode: 'an app\'s processes share the app\'s own network',
  links: 'processes reach each other by service name on the app\'s network',
  external_links: 'apps do not reach each other\'s containers',
  secrets: 'use berth config set (encrypted)',
  configs: 'bake the file into the image, or use berth config set',
  user: 'set USER in the Dockerfile',
  working_dir: 'set WORKDIR in the Dockerfile',
  pids_limit: 'use berth apps limits --pids',
  mem_reservation: 'berth sets limits, not reservations',
  memswap_limit: 'processes get no swap beyond their memory limit',
  ulimits: '', sysctls: '', devices: '', gpus: '', tmpfs: '', shm_size: '', stop_signal: 'processes get SIGTERM', init: 'berth runs an init in every process',
  read_only: '', security_opt: '', ipc: '', pid: '', platform: '', pull_policy: 'berth pulls or builds the release\'s image itself',
  extra_hosts: '', dns: '', dns_opt: '', dns_search: '', domainname: '', mac_address: '', tty: '', stdin_open: '', userns_mode: '', uts: '',
  cgroup: '', cgroup_parent: '', cpu_count: '', cpu_percent: '', cpu_shares: '', cpu_period: '', cpu_quota: '', cpu_rt_runtime: '',
  cpu_rt_period: '', cpuset: '', blkio_config: '', oom_kill_disable: '', oom_score_adj: '', mem_swappiness: '', storage_opt: '',
  device_cgroup_rules: '', group_add: '', isolation: '', runtime: '', volumes_from: 'mount named volumes instead', annotations: '', attach: '',
  credential_spec: '', develop: 'compose watch is for development', driver_opts: '', extends: 'write the service out in full', label_file: '',
  post_start: '', pre_stop: '', provider: '', use_api_socket: 'apps do not reach the Docker Engine',
};

export const SERVICE_KEYS = [...READ, ...Object.keys(NOT_SUPPORTED)];

/** deploy: what berth reads; the rest is reported. */
export const DEPLOY_READ = ['replicas', 'resources'] as const;
export const DEPLOY_KEYS = ['replicas', 'resources', 'mode', 'placement', 'restart_policy', 'rollback_config', 'update_config', 'endpoint_mode', 'labels'];

export const TOP_LEVEL_KEYS = ['version', 'name', 'services', 'networks', 'volumes', 'configs', 'secrets', 'include', 'models'];

export const HEALTHCHECK_KEYS = ['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable'];

export const BUILD_KEYS = ['context', 'dockerfile', 'args', 'target', 'dockerfile_inline', 'additional_contexts', 'cache_from', 'cache_to', 'labels',
  'network', 'ssh', 'secrets', 'platforms', 'tags', 'no_cache', 'pull', 'shm_size', 'extra_hosts', 'isolation', 'privileged', 'ulimits',
  'entitlements', 'provenance', 'sbom'];
