// What berth.yml means where it says nothing.

export const DEFAULTS = {
  /** As `berth apps create` has it. */
  webPort: 8000, healthPath: '/health', healthIntervalMs: 2_000, healthTimeoutMs: 5_000,
  /** Docker's own default before SIGKILL. */
  stopGraceMs: 10_000, releaseTimeoutMs: 600_000, cronTimeoutMs: 3_600_000, timezone: 'UTC', redirectCode: 308,
} as const;
