// The exit status of `tsproc run` from the monitor's exit event: the command's own, 128+N for a
// signal, 137 with a plain message for an out-of-memory kill.
import type { HelperEvent } from './helper-events.js';

export function exitStatus(e: Extract<HelperEvent, { kind: 'exit' }>): { code: number; message?: string } {
  const code = e.how === 'code' ? e.value : 128 + e.value;
  // killed by SIGKILL (directly, or as the child of --init, which reports 137) while the cgroup saw an OOM kill
  if (code === 137 && e.oomKills > 0)
    return { code, message: 'the container ran out of memory: the kernel killed it (OOM) at its memory limit' };
  return { code };
}
