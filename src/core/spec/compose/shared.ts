// Services of a compose file that berth already provides to every app: a bundled PostgreSQL,
// Redis, object store or reverse proxy (what a standalone compose file carries so that it runs
// on its own, as in Towlion's fork scenario). They are left out, and the app gets berth's own,
// wired through the env vars berth sets (src/core/shared-services/services.ts, serviceEnv).
import { parseImageRef } from '../../../lib/image-ref.js';

export type Shared = 'postgres' | 'redis' | 's3' | 'proxy';

const IMAGES: Record<Shared, RegExp> = {
  postgres: /^(postgres|postgis\/postgis|bitnami\/postgresql|pgvector\/pgvector|timescale\/timescaledb(-ha)?|supabase\/postgres)$/,
  redis: /^(redis|valkey\/valkey|bitnami\/redis|bitnami\/valkey|redis\/redis-stack(-server)?|eqalpha\/keydb)$/,
  s3: /^(minio\/minio|bitnami\/minio|dxflrs\/garage)$/,
  proxy: new RegExp('^(caddy|traefik|nginxproxy/nginx-proxy|jwilder/nginx-proxy|jc21/nginx-proxy-manager|lucaslorentz/caddy-docker-proxy'
    + '|nginxproxy/acme-companion|jrcs/letsencrypt-nginx-proxy-companion)$'),
};

export const REPLACEMENT: Record<Shared, string> = {
  postgres: "berth's shared PostgreSQL replaces it: the app has a database of its own, and DATABASE_URL comes from berth",
  redis: "berth's shared Redis replaces it: REDIS_URL and REDIS_KEY_PREFIX (the app's keys start with it) come from berth",
  s3: "berth's object storage replaces it: the app has a bucket of its own, and S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, "
    + 'S3_REGION come from berth',
  proxy: "berth's Caddy replaces it: it routes the app's domains with TLS (domains, routes and redirects go in x-berth)",
};

/** Images that hold data or queues berth does not provide: they stay processes, but never serve the domains. */
const DATASTORES = new RegExp('^(mysql|mariadb|bitnami/(mysql|mariadb|mongodb)|mongo|memcached|rabbitmq|elasticsearch|opensearchproject/opensearch'
  + '|clickhouse/clickhouse-server|nats|bitnami/kafka|apache/kafka|zookeeper|mailhog/mailhog|axllent/mailpit)$');

/** The repository without registry host and without docker.io's library/. */
function repository(image: string): string | null {
  const ref = parseImageRef(image);
  if (!ref) return null;
  const path = ref.registry === 'docker.io' ? ref.name : ref.name.slice(ref.registry.length + 1);
  return path.replace(/^(docker\.io\/)?library\//, '');
}

export function sharedServiceOf(image: string): Shared | null {
  const repo = repository(image);
  if (!repo) return null;
  return (Object.keys(IMAGES) as Shared[]).find((s) => IMAGES[s].test(repo)) ?? null;
}

export const isDatastore = (image: string): boolean => DATASTORES.test(repository(image) ?? '');
