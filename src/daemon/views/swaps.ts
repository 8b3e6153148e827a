// /proc/swaps: the container's swap as one line ("none ... virtual"), or the header alone when it has none.
import { ONE_RECORD } from '../io/file-source.js';
import type { Reader } from '../reader/resolver.js';
import { gatherMemory, hostFigures, swapFigures, type MemoryFigures } from './memory-figures.js';
import { HOST_FILE, type HostFile, type View, type ViewEnv } from './view.js';

export interface SwapsSnapshot {
  /** the host's /proc/meminfo (SwapTotal, SwapFree) */
  hostMeminfo: string;
  mem: MemoryFigures;
  swap: boolean;
}

const HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

function gather(env: ViewEnv, reader: Reader): SwapsSnapshot | HostFile {
  const mem = gatherMemory(env, reader);
  if (mem === HOST_FILE) return HOST_FILE;
  return { hostMeminfo: env.host('/proc/meminfo', ONE_RECORD), mem, swap: env.options.swap };
}

function render(s: SwapsSnapshot): string {
  const { totalKb, usedKb } = swapFigures(s.mem, hostFigures(s.hostMeminfo), s.swap);
  if (totalKb <= 0) return HEADER;
  // The kernel's columns: the name padded to 40, then type, size and used separated by tabs.
  const tab = (n: number) => (n < 10000000 ? '\t\t' : '\t');
  return `${HEADER}${'none'.padEnd(40)}virtual\t${totalKb}${tab(totalKb)}${usedKb}${tab(usedKb)}0\n`;
}

export const swaps: View<SwapsSnapshot> = { name: 'swaps', gather, render };
