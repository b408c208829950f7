// Credentials for private registries: checked with the registry, stored encrypted, used on pull.
import { ValidationError } from '../lib/errors.js';
import type { Ctx } from './context.js';

const REGISTRY = /^(localhost|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+)(:[0-9]{1,5})?$/;

export async function registryLogin(ctx: Ctx, b: { registry: string; username: string; password: string }, actor: string) {
  const registry = b.registry.toLowerCase();
  if (!REGISTRY.test(registry)) throw new ValidationError('registry', `${JSON.stringify(b.registry)} is not a registry host`, 'use e.g. ghcr.io or registry.example.com:5000');
  if (/[\s\0]/.test(b.username)) throw new ValidationError('username', 'must not contain spaces or NUL');
  const auth = { username: b.username, password: b.password, serveraddress: registry };
  await ctx.runtime.checkAuth(auth);
  ctx.store.setRegistryAuth(registry, ctx.cipher.encryptJSON(auth));
  ctx.store.audit({ actor, action: 'registry.login', result: 'succeeded', detail: { registry, username: b.username } });
  return { registry, username: b.username, stored: true };
}
