// Text that arrives in chunks cut into whole lines: a partial line waits for the rest.

export class LineSplitter {
  private rest = '';
  /** The whole lines this chunk completes (a trailing \r dropped); `keepBlank` keeps empty ones. */
  push(chunk: string, keepBlank = false): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    const lines = parts.map((l) => l.replace(/\r$/, ''));
    return keepBlank ? lines : lines.filter((l) => l.trim());
  }
  /** What is left once the text ends: a last line without its newline. */
  end(): string[] { const l = this.rest.trim() ? [this.rest] : []; this.rest = ''; return l; }
}
