// The shared services berth can run, in a module of its own: the CLI needs the names without
// loading the settings schema.
export const SERVICES = ['postgres', 'redis', 's3'] as const;
export type ServiceName = typeof SERVICES[number];
