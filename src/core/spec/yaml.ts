// YAML files read with the `yaml` package: merge keys (<<: *defaults, common in compose files),
// duplicate keys refused, and each key's line kept so that a problem can say where it is.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Path, RawIssue } from './issues.js';

export interface YamlFile {
  file: string;
  value: unknown;
  errors: RawIssue[];
  /** The 1-based line of the key at `at` (of its value, for list entries). */
  lineOf(at: Path): number | undefined;
}

export function readYaml(text: string, file: string): YamlFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true, prettyErrors: false });
  const errors: RawIssue[] = doc.errors.map((e) => ({ file, at: [], message: e.message.split('\n')[0]!.replace(/ at line \d+.*$/, ''),
    line: lines.linePos(e.pos[0]).line }));
  const lineOf = (at: Path) => {
    const n = nodeAt(doc.contents, at);
    return n?.range ? lines.linePos(n.range[0]).line : undefined;
  };
  if (errors.length) return { file, value: undefined, errors, lineOf };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    // an alias to no anchor, or aliases that would expand without bound
    if (!(e instanceof ReferenceError)) throw e;
    return { file, value: undefined, errors: [{ file, at: [], message: e.message }], lineOf };
  }
  if (value === null || value === undefined) errors.push({ file, at: [], message: 'the file is empty' });
  else if (typeof value !== 'object' || Array.isArray(value)) errors.push({ file, at: [], message: 'expected a mapping of keys at the top of the file' });
  return { file, value, errors, lineOf };
}

/** The node of the key at `at` (or of the entry, in a list). */
function nodeAt(root: unknown, at: Path): Node | undefined {
  let node = root;
  let found: Node | undefined;
  for (const k of at) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(k));
      if (!pair) return found;
      found = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node)) {
      node = node.items[Number(k)];
      if (!node) return found;
      found = node as Node;
    } else {
      return found;
    }
  }
  return found ?? (node as Node | undefined);
}
