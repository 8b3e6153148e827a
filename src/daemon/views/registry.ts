// The views tsproc serves, one line each; VIEW_PATHS (paths.ts) says where each appears in the mount.
import { cpuOnline } from './cpu-online.js';
import { cpuinfo } from './cpuinfo.js';
import { diskstats } from './diskstats.js';
import { loadavg } from './loadavg.js';
import { meminfo } from './meminfo.js';
import { stat } from './stat.js';
import { swaps } from './swaps.js';
import { uptime } from './uptime.js';
import type { View } from './view.js';

/** Each view keeps its own snapshot type; the registry only passes snapshots from gather to render. */
export const VIEWS: View<any>[] = [meminfo, cpuinfo, stat, uptime, loadavg, swaps, diskstats, cpuOnline];
