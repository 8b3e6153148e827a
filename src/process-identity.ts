// A process named so that no other can pass for it: its pid, its start time (clock ticks after boot,
// /proc/PID/stat field 22) and the boot's id. A pid alone is reused within seconds; pid and start time
// repeat only across a reboot, which a record kept on disk outlives. A leaf module, as errors.ts.
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  start: string;
  /** /proc/sys/kernel/random/boot_id; absent in files written before it was recorded */
  boot?: string;
}

let bootId: string | undefined;

function currentBoot(): string {
  bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return bootId;
}

/** State and start time of a process, or undefined when there is none with that pid. */
function stat(pid: number): { state: string; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after "pid (comm) ": field 3 (state) is the first, field 22 (starttime) the 20th
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** This process. */
export function ownIdentity(): ProcessIdentity {
  return { pid: process.pid, start: stat(process.pid)!.start, boot: currentBoot() };
}

/** Whether that very process still runs: same boot, same start time, and not a zombie (which can do nothing more). */
export function isRunning(p: ProcessIdentity): boolean {
  if (p.boot !== undefined && p.boot !== currentBoot()) return false;
  const s = stat(p.pid);
  return s !== undefined && s.start === p.start && s.state !== 'Z' && s.state !== 'X';
}
