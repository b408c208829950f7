// The last lines of a process's log, as an error shows them: blank lines carry nothing, and an
// excerpt of one empty line reads as if berth had lost the output. An empty list means the
// process wrote nothing, which the CLI says in words.

export function logExcerpt(text: string, lines: number): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '').slice(-lines);
}
