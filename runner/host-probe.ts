// The host as a plan sees it (plan-from-flags.ts, exec.ts): what sits at a path, a file's text, the
// environment, the hostname and the online CPUs; tests give a fake.
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { cpuNumbers } from '../src/cpu-list.js';

export interface Probe {
  /** what sits at a host path */
  kind(path: string): 'dir' | 'file' | 'other' | 'missing';
  /** a file's text, undefined if it cannot be read */
  readFile(path: string): string | undefined;
  env: NodeJS.ProcessEnv;
  hostHostname: string;
  onlineCpus: number[];
}

/** The host as plan-from-flags sees it. */
export function hostProbe(): Probe {
  return {
    kind(path) {
      try {
        const st = statSync(path);
        return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      } catch {
        return 'missing';
      }
    },
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    env: process.env,
    hostHostname: hostname(),
    onlineCpus: cpuNumbers(readFileSync('/sys/devices/system/cpu/online', 'utf8')) ?? [],
  };
}
