// What `berth services move s3` prints when it ends: a dry run's buckets, a finished move, or
// that there was nothing to do (pure). Progress lines come from the daemon as it goes.
type DryRow = { app: string; bucket: string; objects: number; bytes: number; to_copy: number; bytes_to_copy: number; skipped: number };
export type MoveResult = {
  moved: boolean; note: string; dry_run?: boolean; buckets?: DryRow[]; releases?: { app: string; release: string }[]; not_propagated?: string;
};

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function moveText(r: MoveResult): string {
  if (r.dry_run) {
    return [...(r.buckets ?? []).map((b) => `${b.bucket}: ${b.objects} objects, ${mb(b.bytes)} in MinIO; would copy ${b.to_copy} (${mb(b.bytes_to_copy)})` +
      `${b.skipped ? `, ${b.skipped} already in Garage` : ''}`), `${r.note} (dry run: nothing was started or changed)`].join('\n');
  }
  if (!r.moved) return r.note;
  return ['moved object storage to Garage', ...(r.releases ?? []).map((x) => `  ${x.app}: ${x.release} serves from Garage`),
    r.not_propagated ?? '', r.note].filter(Boolean).join('\n');
}
