// The exit file of a container's record (DATA/containers/ID/exit), written once:
//   line 1: `code N K` or `signal N K`: the command's exit status or the signal that ended it, and the
//           cgroup's OOM kills (K) at its end; the monitor writes this line (native/monitor.c, step 8);
//   line 2, only when the monitor did not record the command's end: who wrote the file instead,
//           `lost` (settling: the monitor died after the start), `interrupted` (settling: the set-up was
//           cut short, nothing ran) or `failed` (the CLI: the set-up failed and the monitor cleaned up).
// Anything else is not an exit file: a reader takes it for none rather than guess.

/** Why a container without an exit status of its command ended: its monitor died, or it never started. */
export type ExitNote = 'monitor lost' | 'set-up interrupted' | 'set-up failed';

export interface ExitRecord {
  how: 'code' | 'signal';
  value: number;
  oomKills: number;
  note?: ExitNote;
}

const NOTES: Record<string, ExitNote> = { lost: 'monitor lost', interrupted: 'set-up interrupted', failed: 'set-up failed' };
const WORDS = Object.fromEntries(Object.entries(NOTES).map(([word, note]) => [note, word])) as Record<ExitNote, string>;

const NUMBER = /^(0|[1-9][0-9]{0,9})$/;

/** The file's text, or undefined when it is not one (a torn or foreign file). */
export function parseExitFile(text: string): ExitRecord | undefined {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 1 || lines.length > 2) return undefined;
  const f = lines[0]!.split(' ');
  if (f.length !== 3 || (f[0] !== 'code' && f[0] !== 'signal') || !NUMBER.test(f[1]!) || !NUMBER.test(f[2]!)) return undefined;
  const value = Number(f[1]);
  if ((f[0] === 'code' && value > 255) || (f[0] === 'signal' && (value < 1 || value > 64))) return undefined;
  const record: ExitRecord = { how: f[0], value, oomKills: Number(f[2]) };
  if (lines.length === 1) return record;
  const note = NOTES[lines[1]!];
  return note ? { ...record, note } : undefined;
}

export function formatExitFile(e: ExitRecord): string {
  return `${e.how} ${e.value} ${e.oomKills}\n${e.note ? `${WORDS[e.note]}\n` : ''}`;
}
