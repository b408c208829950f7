// The shared services as every runtime runs them: the port each listens on, and the one key the
// offline fallback object store (s3rver) accepts.
import type { ServiceName } from './settings.js';

export const SERVICE_PORTS: Record<ServiceName, number> = { postgres: 5432, redis: 6379, s3: 9000 };
/** s3rver accepts only this access key id (any secret: it does not check V4 signatures). */
export const S3RVER_ACCESS_KEY = 'S3RVER';
/** The bundled Garage's admin API (bearer tokens; berth's is scoped) beside S3 on SERVICE_PORTS.s3. */
export const GARAGE_ADMIN_PORT = 3903;

/** Garage's S3 region (its config's s3_region; apps sign with it). Here, not in the Garage driver:
 *  the daemon needs the name without loading the AWS SDK that driver brings (+10 MB). */
export const GARAGE_REGION = 'garage';
