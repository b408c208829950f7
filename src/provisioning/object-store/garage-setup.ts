// First start of the bundled Garage, with the root admin token (from its config file): give the
// one node a role in the cluster layout (single-node mode, replication factor 1), then make the
// scoped admin token berth provisions with (GARAGE_BERTH_SCOPE). Idempotent: a layout already
// applied is left alone, and a token whose secret berth did not keep is replaced.
import { GARAGE_BERTH_SCOPE, GARAGE_TOKEN_NAME, garageCall, GarageError } from './garage.js';

/** The capacity Garage is told the node has: it only weighs nodes against each other. */
const NODE_CAPACITY = 1e12;

interface Status { layoutVersion: number; nodes: { id: string; role?: { zone: string } | null }[] }
interface TokenInfo { id: string | null; name: string; scope: string[]; expired: boolean }

/** Returns the scoped token's secret when it made a new one (null when `have` still works). */
export async function setupGarage(admin: string, rootToken: string, have: string | null): Promise<string | null> {
  const call = <T>(name: string, o?: { query?: Record<string, string>; body?: unknown }) => garageCall<T>(admin, rootToken, name, o);
  const status = await call<Status>('GetClusterStatus');
  if (status.nodes.length !== 1) throw new GarageError(409, 'NotSingleNode', `Garage knows ${status.nodes.length} nodes; berth runs it as one node`);
  const node = status.nodes[0]!;
  if (!node.role) {
    await call('UpdateClusterLayout', { body: { roles: [{ id: node.id, zone: 'berth', capacity: NODE_CAPACITY, tags: [] }] } });
    await call('ApplyClusterLayout', { body: { version: status.layoutVersion + 1 } });
  }
  if (have) {
    const ok = await garageCall<{ scope: string[] }>(admin, have, 'GetCurrentAdminTokenInfo').then(() => true, (e) => {
      if (e instanceof GarageError && (e.status === 401 || e.status === 403)) return false;
      throw e;
    });
    if (ok) return null;
  }
  // a token of ours whose secret is lost (a crash between its creation and berth storing it) goes
  for (const t of await call<TokenInfo[]>('ListAdminTokens')) {
    if (t.name === GARAGE_TOKEN_NAME && t.id) await call('DeleteAdminToken', { query: { id: t.id } });
  }
  const body = { name: GARAGE_TOKEN_NAME, neverExpires: true, scope: [...GARAGE_BERTH_SCOPE] };
  const made = await call<{ secretToken: string }>('CreateAdminToken', { body });
  return made.secretToken;
}
