// What a view is: a gather step that does all the I/O, then a pure render of the snapshot it made.
import type { CgroupDriver } from '../cgroup/driver.js';
import type { FileSource, ReadOptions } from '../io/file-source.js';
import type { Reader } from '../reader/resolver.js';
import type { ViewName } from './paths.js';
import type { LoadSample } from '../loadavg/table.js';

export type { LoadSample };

/** A gather step's answer meaning "this reader sees the host's file as it is" (a host shell without limits). */
export const HOST_FILE: unique symbol = Symbol('the host file');
export type HostFile = typeof HOST_FILE;

export interface ViewOptions {
  /** show the container's swap (lxcfs's default; off with --no-swap, lxcfs -u) */
  swap: boolean;
  /** cut the visible CPUs to the CPU quota (lxcfs --enable-cfs; off with --no-cpu-quota) */
  cpuQuota: boolean;
  /** per-container load averages (lxcfs -l; off with --no-loadavg) */
  loadavg: boolean;
}

/** Everything a gather step may do I/O with. */
export interface ViewEnv {
  files: FileSource;
  driver: CgroupDriver;
  options: ViewOptions;
  /** the host's version of a file, by its path on the host (/proc/meminfo); throws when missing */
  host(path: string, o?: ReadOptions): string;
  /** task counts and load averages of the reader's container */
  load(reader: Reader): LoadSample;
}

export interface View<S> {
  name: ViewName;
  /** all the I/O: the host's file and the cgroup's figures, or HOST_FILE */
  gather(env: ViewEnv, reader: Reader): S | HostFile;
  /** pure: the file's text from the snapshot */
  render(snapshot: S): string;
}

/** USER_HZ: the unit of /proc/stat and /proc/PID/stat times (100 on every Linux architecture tsproc runs on). */
export const CLOCK_TICKS = 100;

/** Nanoseconds to clock ticks. */
export const ticks = (ns: number): number => Math.floor(ns / (1e9 / CLOCK_TICKS));

/** Host uptime in clock ticks, from the text of /proc/uptime ("12345.67 23456.78"). */
export function uptimeTicks(text: string): number {
  const m = /^([0-9]+)\.([0-9]{2})/.exec(text);
  if (!m) throw new Error(`cannot parse /proc/uptime: ${JSON.stringify(text)}`);
  return Number(m[1]) * CLOCK_TICKS + Number(m[2]);
}

/** Clock ticks as /proc/uptime prints seconds: "1234.56". */
export function formatTicks(t: number): string {
  const v = Math.max(0, Math.floor(t));
  return `${Math.floor(v / CLOCK_TICKS)}.${String(v % CLOCK_TICKS).padStart(2, '0')}`;
}
