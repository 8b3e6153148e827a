// Boots the test VM under QEMU's software emulation, streams its job's output, and kills it on a timeout.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';

export interface BootConfig {
  vmlinux: string;
  initrd: string;
  /** host directory shared writable with the guest (9p tag `share`); named to /init as tsproc_share */
  share: string;
  /** the project directory, which /init keeps visible (tsproc_project) */
  project: string;
  /** a raw image the guest sees as /dev/vda: a block device for I/O tests and /proc/diskstats */
  scratchDisk: string;
  /** the guest's console (ttyS0): kernel messages and /init's steps */
  consoleLog: string;
  /** the guest job's output (ttyS1) */
  outputLog: string;
  memoryMiB: number;
  cpus: number;
  /** from start until /init announces the job */
  bootTimeoutMs: number;
  /** from start until the guest powers off */
  totalTimeoutMs: number;
  /** once the job has started, how long the guest may stay silent (no output, no console) */
  stallTimeoutMs: number;
  /** each chunk of the job's output as it arrives */
  onOutput(chunk: Buffer): void;
  /** what the console shows once the job has started (its tests' stderr, kernel warnings) */
  onConsole(chunk: Buffer): void;
  signal?: AbortSignal;
}

export type Outcome = 'powered-off' | 'boot-timeout' | 'timeout' | 'stalled' | 'interrupted';

export interface BootResult {
  outcome: Outcome;
  /** QEMU's exit code (0 after the guest powers off) */
  exitCode: number | null;
  /** ms from start until the job started, if it did */
  bootMs: number | undefined;
  elapsedMs: number;
  qemuStderr: string;
}

/** Marks the end of booting on the console (written by init.sh). */
export const JOB_STARTED = 'tsproc-vm: step: run ';

export function qemuArgs(c: BootConfig): string[] {
  const append = ['console=ttyS0', 'quiet', 'panic=-1', `tsproc_share=${c.share}`, `tsproc_project=${c.project}`].join(' ');
  return [
    '-accel',
    'tcg,thread=multi',
    '-cpu',
    'max',
    '-m',
    String(c.memoryMiB),
    '-smp',
    String(c.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    c.vmlinux,
    '-initrd',
    c.initrd,
    '-append',
    append,
    '-serial',
    `file:${c.consoleLog}`,
    '-serial',
    `file:${c.outputLog}`,
    '-drive',
    `file=${c.scratchDisk},if=virtio,format=raw,cache=unsafe`,
    '-virtfs',
    'local,path=/,mount_tag=host0,security_model=none,readonly=on,multidevs=remap',
    '-virtfs',
    `local,path=${c.share},mount_tag=share,security_model=none`,
  ];
}

/** Reads what a file gained since the last call (QEMU appends the serial ports' bytes as they come). */
class Follower {
  private fd: number | undefined;
  private offset = 0;
  private readonly buf = Buffer.alloc(1 << 16);
  constructor(private readonly path: string) {}

  next(): Buffer {
    if (this.fd === undefined) {
      if (!existsSync(this.path)) return Buffer.alloc(0);
      this.fd = openSync(this.path, 'r');
    }
    const parts: Buffer[] = [];
    for (let n; (n = readSync(this.fd, this.buf, 0, this.buf.length, this.offset)) > 0; this.offset += n) {
      parts.push(Buffer.from(this.buf.subarray(0, n)));
    }
    return Buffer.concat(parts);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

export function boot(c: BootConfig): Promise<BootResult> {
  const started = Date.now();
  // Under timeout(1) as well, so QEMU cannot outlive a harness that was killed outright.
  const backstop = String(Math.ceil(c.totalTimeoutMs / 1000) + 60);
  const qemu = spawn('timeout', [backstop, 'qemu-system-x86_64', ...qemuArgs(c)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = new Follower(c.outputLog);
  const consoleFile = new Follower(c.consoleLog);
  let consoleText = '';
  let bootMs: number | undefined;
  let outcome: Outcome = 'powered-off';
  let heard = started;

  const stop = (why: Outcome) => {
    if (outcome !== 'powered-off' || qemu.exitCode !== null || qemu.signalCode !== null) return;
    outcome = why;
    qemu.kill('SIGTERM'); // timeout(1) passes it on to QEMU, which exits at once
  };
  const poll = () => {
    const chunk = output.next();
    if (chunk.length > 0) c.onOutput(chunk);
    const shown = consoleFile.next();
    if (chunk.length > 0 || shown.length > 0) heard = Date.now();
    if (bootMs !== undefined) {
      if (shown.length > 0) c.onConsole(shown);
    } else {
      consoleText += shown.toString('latin1');
      const at = consoleText.indexOf(JOB_STARTED);
      if (at >= 0) {
        bootMs = Date.now() - started;
        const after = consoleText.indexOf('\n', at) + 1;
        if (after > 0 && after < consoleText.length) c.onConsole(Buffer.from(consoleText.slice(after), 'latin1'));
      }
    }
    const elapsed = Date.now() - started;
    if (c.signal?.aborted) stop('interrupted');
    else if (bootMs === undefined && elapsed > c.bootTimeoutMs) stop('boot-timeout');
    else if (elapsed > c.totalTimeoutMs) stop('timeout');
    else if (bootMs !== undefined && Date.now() - heard > c.stallTimeoutMs) stop('stalled');
  };
  const timer = setInterval(poll, 250);

  return new Promise((resolve) => {
    qemu.on('error', (err) => (stderr += `${err.message}\n`));
    qemu.on('close', (code) => {
      clearInterval(timer);
      poll();
      output.close();
      consoleFile.close();
      resolve({ outcome, exitCode: code, bootMs, elapsedMs: Date.now() - started, qemuStderr: stderr });
    });
  });
}
