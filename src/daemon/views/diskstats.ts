// /proc/diskstats: the container's own I/O per device (io.stat on v2, blkio on v1) in the kernel's columns.
import type { IoCounters } from '../cgroup/parse.js';
import type { Reader } from '../reader/resolver.js';
import { HOST_FILE, type HostFile, type View, type ViewEnv } from './view.js';

export interface DiskstatsSnapshot {
  /** the host's /proc/diskstats, for the device names and the number of columns */
  host: string;
  /** by "MAJ:MIN" */
  io: Map<string, IoCounters>;
}

function gather(env: ViewEnv, reader: Reader): DiskstatsSnapshot | HostFile {
  if (reader.scope === 'host') return HOST_FILE;
  return { host: env.host('/proc/diskstats'), io: env.driver.ioStat(reader.cgroup) };
}

function render(s: DiskstatsSnapshot): string {
  let out = '';
  for (const l of s.host.split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length < 14) continue;
    const c = s.io.get(`${f[0]}:${f[1]}`);
    if (!c || c.rios + c.wios + c.dios + c.rbytes + c.wbytes + c.dbytes === 0) continue;
    // reads, merged, sectors, ms; writes, merged, sectors, ms; in flight, io ms, weighted ms;
    // discards, merged, sectors, ms; flushes, ms. The cgroup counts operations and bytes only.
    const v = [
      c.rios,
      0,
      Math.floor(c.rbytes / 512),
      0,
      c.wios,
      0,
      Math.floor(c.wbytes / 512),
      0,
      0,
      0,
      0,
      c.dios,
      0,
      Math.floor(c.dbytes / 512),
      0,
      0,
      0,
    ];
    const columns = f.length - 3;
    const values = v.slice(0, columns).concat(Array(Math.max(0, columns - v.length)).fill(0));
    out += `${f[0]!.padStart(4)} ${f[1]!.padStart(7)} ${f[2]} ${values.join(' ')}\n`;
  }
  return out;
}

export const diskstats: View<DiskstatsSnapshot> = { name: 'diskstats', gather, render };
