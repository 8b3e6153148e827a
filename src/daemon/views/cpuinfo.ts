// /proc/cpuinfo: the host's blocks for the CPUs the container sees, renumbered from 0.
import { SETTING_AGE_MS } from '../cgroup/driver.js';
import { ParseError } from '../cgroup/errors.js';
import type { Reader } from '../reader/resolver.js';
import { gatherCpuLimits, hidesCpus, visibleCpus } from './cpu-figures.js';
import { HOST_FILE, type HostFile, type View, type ViewEnv } from './view.js';

export interface CpuinfoSnapshot {
  /** the host's /proc/cpuinfo */
  host: string;
  /** the host CPUs shown, in order */
  visible: number[];
}

function gather(env: ViewEnv, reader: Reader): CpuinfoSnapshot | HostFile {
  const limits = gatherCpuLimits(env, reader);
  if (reader.scope === 'host' && !hidesCpus(limits)) return HOST_FILE;
  // The host's blocks change little (x86's "cpu MHz" moves): read at most once a second, as a setting.
  return { host: env.host('/proc/cpuinfo', { maxAgeMs: SETTING_AGE_MS }), visible: visibleCpus(limits) };
}

/** The first line of a CPU's block: "processor : N" (x86, arm64, riscv...), "cpu number : N" (s390x). */
const CPU_HEAD = /^(?:processor|cpu number)\s*:\s*([0-9]+)/;
/** s390x's summary block, before the CPUs' blocks: the CPU count and a "processor N: ..." line per CPU. */
const S390_COUNT = /^# processors\s*:\s*[0-9]+$/m;
const S390_CPU_LINE = /^processor ([0-9]+):/;

interface Blocks {
  byCpu: Map<number, string>;
  /** blocks that are not a CPU's, before the CPUs' and after them */
  before: string[];
  after: string[];
}

/** The blocks, separated by blank lines, of the last host file seen (the same text for a second). */
let last: { host: string; blocks: Blocks } | undefined;

function blocks(host: string): Blocks {
  if (last?.host === host) return last.blocks;
  const b: Blocks = { byCpu: new Map(), before: [], after: [] };
  for (const block of host.split('\n\n')) {
    if (block.trim() === '') continue;
    const m = CPU_HEAD.exec(block);
    if (m) b.byCpu.set(Number(m[1]), block);
    else (b.byCpu.size === 0 ? b.before : b.after).push(block);
  }
  last = { host, blocks: b };
  return b;
}

function render(s: CpuinfoSnapshot): string {
  // The CPUs' blocks are shown in cpuset order where the first of them stood; other blocks (s390x's
  // summary before them, arm's "Hardware" after) keep their place.
  const { byCpu, before, after } = blocks(s.host);
  const shown: string[] = [];
  for (const cpu of s.visible) {
    const block = byCpu.get(cpu);
    if (block !== undefined) shown.push(block.replace(CPU_HEAD, (head) => head.replace(/[0-9]+$/, String(shown.length))));
  }
  // A format this does not know, or CPUs the file does not have: the host's file, rather than a
  // cpuinfo that disagrees with cpu/online.
  if (shown.length !== s.visible.length)
    throw new ParseError(`/proc/cpuinfo (${shown.length} blocks of the ${s.visible.length} CPUs shown)`, s.host);
  const summary = before.map((b) => (S390_COUNT.test(b) ? s390Summary(b, s.visible) : b));
  // x86 ends every block, the last too, with a blank line; arm64 and s390x end the file with one newline.
  return `${[...summary, ...shown, ...after].map((b) => b.replace(/\n+$/, '')).join('\n\n')}${s.host.endsWith('\n\n') ? '\n\n' : '\n'}`;
}

/** s390x's summary: the count of CPUs shown, and their "processor N:" lines only, renumbered. */
function s390Summary(block: string, visible: number[]): string {
  const lines: string[] = [];
  const cpuLines = new Map<number, string>();
  let at = -1;
  for (const line of block.split('\n')) {
    const m = S390_CPU_LINE.exec(line);
    if (!m) lines.push(S390_COUNT.test(line) ? line.replace(/[0-9]+$/, String(visible.length)) : line);
    else {
      if (at < 0) at = lines.length;
      cpuLines.set(Number(m[1]), line);
    }
  }
  const shown = visible.flatMap((cpu, i) => {
    const line = cpuLines.get(cpu);
    return line === undefined ? [] : [line.replace(S390_CPU_LINE, `processor ${i}:`)];
  });
  if (at >= 0) lines.splice(at, 0, ...shown);
  return lines.join('\n');
}

export const cpuinfo: View<CpuinfoSnapshot> = { name: 'cpuinfo', gather, render };
