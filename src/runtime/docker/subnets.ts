// Address plans for the apps' own networks (pure). Docker's default pools hold about 30 bridge
// networks, far fewer than the apps of one server, so berth hands out small subnets of its own
// from one private pool, skipping every range already used by a Docker network or routed by the host.

export interface Cidr { base: number; bits: number }

export function parseCidr(s: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits > 32) throw new Error(`not an IPv4 CIDR: ${s}`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  return { base: addr - (addr % 2 ** (32 - bits)), bits };
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((shift) => Math.floor(c.base / 2 ** shift) % 256);
  return `${o.join('.')}/${c.bits}`;
}

const size = (c: Cidr) => 2 ** (32 - c.bits);
export const overlaps = (a: Cidr, b: Cidr) => a.base < b.base + size(b) && b.base < a.base + size(a);

/** The first subnet of `/bits` in the pool that overlaps nothing taken; null when the pool is full. */
export function pickSubnet(pool: string, bits: number, taken: string[]): string | null {
  const p = parseCidr(pool);
  if (bits < p.bits) throw new Error(`a /${bits} does not fit in the pool ${pool}`);
  const used = taken.map(parseCidr);
  const step = 2 ** (32 - bits);
  for (let base = p.base; base < p.base + size(p); base += step) {
    const c = { base, bits };
    if (!used.some((u) => overlaps(u, c))) return formatCidr(c);
  }
  return null;
}

/** The destinations the host routes, from /proc/net/route (little-endian hex), without the
 *  default route: a LAN or VPN range there must not be shadowed by an app network. */
export function hostRoutes(procNetRoute: string): string[] {
  const le = (hex: string) => { const n = Number.parseInt(hex, 16); return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24]; };
  return procNetRoute.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 8 && f[7] !== '00000000')
    .map((f) => {
      const mask = le(f[7]!).reduce((a, o) => a * 256 + o, 0);
      const bits = mask.toString(2).replace(/0+$/, '').length;
      return `${le(f[1]!).join('.')}/${bits}`;
    });
}
