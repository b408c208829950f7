// Renders the events of a streamed deploy as progress lines.
import { progress } from './output.js';

export function renderEvent(e: { type: string; [k: string]: unknown }): void {
  if (e.type === 'plan') {
    progress(`deploy #${e.deploy}: release ${e.release}`);
    (e.steps as string[]).forEach((s, i) => progress(`  ${i + 1}. ${s}`));
  } else if (e.type === 'step' && e.state === 'done') {
    progress(`  ✓ ${e.step} (${e.ms} ms)${e.detail ? `: ${e.detail}` : ''}`);
  } else if (e.type === 'progress') {
    progress(`    ${e.line}`);
  }
}
