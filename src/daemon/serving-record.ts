// Which process serves which FUSE connection: a small record per live daemon under /run/tsproc, so a
// new `tsproc mount` can tell a stuck daemon (abort it) from a stopped one (leave it to its owner), and
// `tsproc mount --takeover` can find the descriptor to copy and the socket to ask for the hand-over.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseStartTime, parseState } from '../reader/proc-parse.js';

export const SERVING_DIR = '/run/tsproc/serving';

export interface ServingRecord {
  /** the supervisor's pid */
  pid: number;
  /** /proc/PID/stat's start time: a pid reused by another process does not match */
  startTime: number;
  /** the connection's number under /sys/fs/fuse/connections */
  connection: number;
  mountpoint: string;
  /** the supervisor's /dev/fuse descriptor (what a takeover copies) */
  fd: number;
  /** its control socket */
  socket: string;
  /** the serving process's pid */
  server: number;
  /** the nodes' time (seconds), kept across reloads and takeovers */
  time: number;
  /** tsproc's version */
  version: string;
}

/** What the supervisor says of itself; the pid and start time are added. */
export type ServingFacts = Omit<ServingRecord, 'pid' | 'startTime'>;

/** Each supervisor's own (closing a listening socket unlinks its path: one daemon must not take the next's). */
export function controlSocketPath(connection: number, dir = SERVING_DIR): string {
  return `${dir}/${connection}.${process.pid}.sock`;
}

function recordPath(connection: number, dir: string): string {
  return `${dir}/${connection}.json`;
}

function statOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Write (or rewrite) this process's record for the connection; returns how to remove it (only if still ours). */
export function writeServingRecord(facts: ServingFacts, dir = SERVING_DIR): () => void {
  const connection = facts.connection;
  const startTime = parseStartTime(statOf(process.pid) ?? '') ?? 0;
  const record: ServingRecord = { pid: process.pid, startTime, ...facts };
  const path = recordPath(connection, dir);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(`${path}.${process.pid}`, `${JSON.stringify(record)}\n`);
  renameSync(`${path}.${process.pid}`, path);
  return () => {
    if (readServingRecord(connection, dir)?.pid === process.pid) rmSync(path, { force: true });
  };
}

/** The record of the live process serving the connection, or undefined (none, or its process is gone). */
export function readServingRecord(connection: number, dir = SERVING_DIR): ServingRecord | undefined {
  let record: ServingRecord;
  try {
    record = JSON.parse(readFileSync(recordPath(connection, dir), 'utf8')) as ServingRecord;
  } catch {
    return undefined;
  }
  const stat = statOf(record.pid);
  if (!stat || parseStartTime(stat) !== record.startTime || record.connection !== connection) return undefined;
  return record;
}

/** The state letter of a process (T: stopped, t: traced, Z: zombie...), undefined when it is gone. */
export function processState(pid: number): string | undefined {
  const stat = statOf(pid);
  return stat ? parseState(stat) : undefined;
}
