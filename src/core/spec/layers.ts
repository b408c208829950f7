// An app's description can come from up to three layers, each over the one below: a compose
// file's services, its x-berth keys, and berth.yml. They are merged into one berth.yml-shaped
// document for the schema; a problem found in the merged document is traced back to the layer
// (and the key in its file) that gave the value, so that it names the line to change.
import type { Path } from './issues.js';

export interface Layer {
  file: string;
  doc: Record<string, unknown>;
  /** The path in this layer's file of a path in the merged document. */
  toFile(at: Path): Path;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Mappings merge key by key; anything else (a list, a value) from above replaces what is below. */
export function deepMerge(below: unknown, above: unknown): unknown {
  if (!isMap(below) || !isMap(above)) return above === undefined ? below : above;
  const out: Record<string, unknown> = { ...below };
  for (const [k, v] of Object.entries(above)) out[k] = k in below ? deepMerge(below[k], v) : v;
  return out;
}

export const mergeLayers = (layers: Layer[]): Record<string, unknown> =>
  layers.reduce<Record<string, unknown>>((doc, l) => deepMerge(doc, l.doc) as Record<string, unknown>, {});

/** How much of `at` a layer gave: the keys it has along the way, all of it once a value of its own (not a mapping) is reached. */
function depthIn(doc: unknown, at: Path): number {
  let node = doc;
  for (let i = 0; i < at.length; i++) {
    if (!isMap(node)) return at.length;
    if (!(String(at[i]) in node)) return i;
    node = node[String(at[i])];
  }
  return at.length;
}

/** The layer that gave the value at `at` (the upper one when two did), and the path in its file. */
export function traceBack(layers: Layer[], at: Path): { file: string; at: Path } {
  let best = layers[layers.length - 1]!;
  let bestDepth = -1;
  for (const l of layers) {
    const d = depthIn(l.doc, at);
    if (d >= bestDepth) [best, bestDepth] = [l, d];
  }
  return { file: best.file, at: best.toFile(at) };
}

/** A path translated by the longest prefix that a table of [merged path, file path] knows. */
export function byPrefix(table: [Path, Path][], at: Path, fallback: Path = []): Path {
  let match: [Path, Path] | null = null;
  for (const entry of table) {
    const [from] = entry;
    if (from.length <= at.length && from.every((k, i) => String(k) === String(at[i])) && (!match || from.length > match[0].length)) match = entry;
  }
  return match ? [...match[1], ...at.slice(match[0].length)] : [...fallback, ...at];
}
