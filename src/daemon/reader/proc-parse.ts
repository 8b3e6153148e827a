// Parsers for the /proc/PID files the reader resolver uses: status (NSpid, PPid), stat (start time), ns links.

export interface ProcStatus {
  /** the process a thread belongs to (its own id for a process's main thread) */
  tgid: number;
  ppid: number;
  /** the pid in each pid namespace from the daemon's down to the process's own (status' NSpid line) */
  nspid: number[];
}

/** /proc/PID/status: Tgid, PPid and NSpid. undefined when a line is missing (a kernel before 4.1 has no NSpid). */
export function parseStatus(text: string): ProcStatus | undefined {
  const tg = /^Tgid:\s*([0-9]+)$/m.exec(text);
  const pp = /^PPid:\s*([0-9]+)$/m.exec(text);
  const ns = /^NSpid:\s*([0-9\s]+)$/m.exec(text);
  if (!pp || !ns) return undefined;
  const nspid = ns[1]!.trim().split(/\s+/).map(Number);
  return { tgid: tg ? Number(tg[1]) : 0, ppid: Number(pp[1]), nspid };
}

/**
 * /proc/PID/stat field 22, the start time in clock ticks after boot. The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from the last ")".
 */
export function parseStartTime(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ") " come fields 3 (state), 4, ... 22 is the 20th of them.
  const f = text.slice(close + 2).split(' ');
  const v = Number(f[19]);
  return Number.isInteger(v) && v >= 0 ? v : undefined;
}

/** The state letter of /proc/PID/stat (field 3): R running, D uninterruptible sleep, S, T, Z, I... */
export function parseState(text: string): string | undefined {
  const close = text.lastIndexOf(')');
  return close < 0 ? undefined : text[close + 2];
}

/** "pid:[4026531836]" → 4026531836 */
export function parseNsLink(link: string): number | undefined {
  const m = /\[([0-9]+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
