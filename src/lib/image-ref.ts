// Image references (NAME[:TAG][@DIGEST]), parsed once by the Docker reference grammar
// (distribution/reference): validation, the pull request's fields and the registry whose
// credentials apply all come from this parse.

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?)`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REF = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ImageRef {
  /** The repository as written (registry host included when given). */
  name: string;
  /** The registry host whose credentials apply: docker.io when the name has none. */
  registry: string;
  tag: string | null;
  digest: string | null;
}

/** Parses a reference; null when it is not one. */
export function parseImageRef(ref: string): ImageRef | null {
  const m = REF.exec(ref);
  if (!m || m[1]!.length > 255) return null;
  const name = m[1]!;
  const first = name.split('/')[0]!;
  // like docker: the first component is a registry only if it looks like a host
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  // without a registry, every component is a repository path: lowercase (as docker requires)
  if (!hasRegistry && !new RegExp(`^${PATH_COMPONENT}$`).test(first)) return null;
  return { name, registry: hasRegistry ? first : 'docker.io', tag: m[2] ?? null, digest: m[3] ?? null };
}

/** What POST /images/create wants: the digest form, or the name and a tag (latest when none). */
export function pullParams(r: ImageRef): { fromImage: string; tag?: string } {
  if (r.digest) return { fromImage: `${r.name}@${r.digest}` };
  return { fromImage: r.name, tag: r.tag ?? 'latest' };
}
