// `npm run test:cgroup2`: boots a QEMU VM with a pure cgroup v2 hierarchy, runs the test files of
// test/vm/suites.ts inside it (test/vm/guest-tests.sh) and has tap report on them on the host; or,
// given arguments, runs that command in the guest instead.
//
// Environment: TSPROC_VM_TIMEOUT (seconds until the guest is killed, all boots together, default 960),
// TSPROC_VM_STALL (seconds of silence after which the guest is deemed stuck, default 180),
// TSPROC_VM_KEEP=1 (keep the temporary directory: console log, output, job, status, per boot).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatError } from '../../src/errors.js';
import { GuestOutput, type GuestFile } from './guest-output.js';
import { ensureHostPackages } from './host-packages.js';
import { reportOnHost, verdict } from './host-report.js';
import { buildInitramfs } from './initramfs.js';
import { obtainKernel, type Kernel } from './kernel.js';
import { boot, type BootResult } from './qemu.js';
import { guestTestFiles } from './suites.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const CACHE = join(ROOT, 'test/vm/.cache');
const INIT = join(ROOT, 'test/vm/init.sh');
const TOTAL_TIMEOUT_S = Number(process.env.TSPROC_VM_TIMEOUT) || 960;
/** each test file's limit inside the guest (tap's TAP_TIMEOUT) */
const FILE_TIMEOUT_S = 600;
const BOOT_TIMEOUT_S = 180;
/** the longest the guest stays silent in a healthy run is about a minute (a daemon starting under emulation) */
const STALL_TIMEOUT_S = Number(process.env.TSPROC_VM_STALL) || 180;
/** sparse: it takes host disk only for what the guest writes */
const SCRATCH_DISK_BYTES = 256 << 20;

const log = (line: string) => process.stderr.write(`test:cgroup2: ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The guest's job, run from the project directory (visible at the same path in the guest). */
function jobScript(command: string[]): string {
  return [
    '# What the cgroup v2 VM runs (written by test/vm/run-cgroup2.ts).',
    `cd ${quote(ROOT)} || exit 125`,
    // /dev/vda is the guest's own scratch disk (it has no loop devices): views.test does I/O to it, then
    // views-swap.test makes it swap (the guest's tmpfs cannot hold a swap file)
    `export TSPROC_VM=1 TAP_TIMEOUT=${FILE_TIMEOUT_S} TSPROC_TEST_SWAP_DEVICE=/dev/vda TSPROC_TEST_BLOCK_DEVICE=/dev/vda`,
    `exec ${command.map(quote).join(' ')}`,
    '',
  ].join('\n');
}

/** The last step /init announced, and the console's last lines. */
function consoleTail(path: string, lines = 40): { step: string; tail: string } {
  const text = existsSync(path) ? readFileSync(path, 'latin1') : '';
  const steps = [...text.matchAll(/^tsproc-vm: (?:step|failed): (.*)$/gm)].map((m) => m[0]);
  return { step: steps.at(-1) ?? '(none: the kernel never ran /init)', tail: text.trimEnd().split('\n').slice(-lines).join('\n') };
}

/** Say what happened; returns the exit status. */
function report(r: BootResult, status: string | undefined, consoleLog: string): number {
  const { step, tail } = consoleTail(consoleLog);
  const why = (what: string) => {
    log(`${what}; last step on the console: ${step}`);
    if (r.qemuStderr.trim()) log(`QEMU said: ${r.qemuStderr.trim()}`);
    process.stderr.write(`--- the guest console's last lines ---\n${tail}\n---\n`);
    if (!process.env.TSPROC_VM_KEEP) log('TSPROC_VM_KEEP=1 keeps the whole console log, the output and the job');
    return 1;
  };
  if (r.outcome === 'boot-timeout') return why(`the VM did not boot within ${BOOT_TIMEOUT_S} s (killed)`);
  if (r.outcome === 'timeout')
    return why(`the guest did not finish within ${TOTAL_TIMEOUT_S} s (killed; TSPROC_VM_TIMEOUT sets the limit)`);
  if (r.outcome === 'stalled') return why(`the guest fell silent for ${STALL_TIMEOUT_S} s (killed)`);
  if (r.outcome === 'interrupted') return why('interrupted');
  if (r.exitCode !== 0) return why(`QEMU exited ${r.exitCode}`);
  if (r.bootMs === undefined) return why('the VM did not boot: /init gave up');
  if (status === undefined) return why('the guest powered off before its job finished');
  if (status !== '0') {
    log(`the job inside the VM exited ${status}`);
    return 1;
  }
  return 0;
}

/** Which test files did not run or exited non-zero, then tap's report on all that ran; returns non-zero on any failure. */
function reportFiles(expected: string[], ran: GuestFile[]): number {
  let failed = false;
  for (const f of expected.filter((f) => !ran.some((r) => r.file === f))) {
    log(`${f}: not run`);
    failed = true;
  }
  for (const r of ran.filter((r) => r.exitCode !== 0)) {
    log(`${r.file}: ${verdict(r)}`);
    failed = true;
  }
  const tap = ran.length > 0 ? reportOnHost(ROOT, ran) : 1;
  return failed || tap !== 0 ? 1 : 0;
}

interface Prepared {
  kernel: Kernel;
  initrd: string;
  tmp: string;
}

/** One boot running `command`; its own share, scratch disk and logs under tmp/boot-N. */
async function bootOnce(
  p: Prepared,
  n: number,
  command: string[],
  budgetMs: number,
  onOutput: (chunk: Buffer) => void,
  signal: AbortSignal,
) {
  const dir = join(p.tmp, `boot-${n}`);
  const share = join(dir, 'share');
  mkdirSync(share, { recursive: true });
  writeFileSync(join(share, 'job.sh'), jobScript(command));
  const scratchDisk = join(dir, 'scratch.img');
  writeFileSync(scratchDisk, '');
  truncateSync(scratchDisk, SCRATCH_DISK_BYTES);
  const consoleLog = join(dir, 'console.log');
  const result = await boot({
    vmlinux: p.kernel.vmlinux,
    initrd: p.initrd,
    share,
    project: ROOT,
    scratchDisk,
    consoleLog,
    outputLog: join(dir, 'output.log'),
    memoryMiB: 2048,
    cpus: 2,
    bootTimeoutMs: BOOT_TIMEOUT_S * 1000,
    totalTimeoutMs: budgetMs,
    stallTimeoutMs: STALL_TIMEOUT_S * 1000,
    onOutput,
    onConsole: (chunk) => process.stderr.write(chunk),
    signal,
  });
  const statusFile = join(share, 'status');
  const status = existsSync(statusFile) ? readFileSync(statusFile, 'utf8').trim() : undefined;
  return { result, status, consoleLog };
}

async function main(argv: string[]): Promise<number> {
  const started = Date.now();
  // 1. What to run: the suites (the project must be built), or the command given.
  const files = argv.length > 0 ? undefined : guestTestFiles(ROOT);
  // 2. QEMU, static busybox and xz on the host.
  ensureHostPackages(log);
  const tmp = mkdtempSync('/tmp/tsproc-test-vm-');
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    // 3. The kernel: from the cache, or downloaded and unpacked; 4. the initramfs.
    const kernel: Kernel = obtainKernel(CACHE, tmp, log);
    const prepared = { kernel, initrd: buildInitramfs(join(tmp, 'initramfs'), INIT, kernel.modules), tmp };
    log(`kernel ${kernel.version} (${kernel.cached ? 'cached' : 'downloaded'}), ready in ${seconds(Date.now() - started)}; booting`);
    // 5. Boot; the job's output streams to stdout, the guest powers itself off. A guest that falls
    //    silent (seen once in many runs: emulation stuck with no kernel message) is killed, and booted
    //    once more for the files it had not finished; the file it was in runs again from its start.
    const done: GuestFile[] = [];
    let pending = files;
    let code = 0;
    let booted = 'did not boot';
    for (let n = 1; ; n++) {
      const output = new GuestOutput((text) => process.stdout.write(text));
      const command = pending ? ['sh', join(ROOT, 'test/vm/guest-tests.sh'), ...pending] : argv;
      const budget = TOTAL_TIMEOUT_S * 1000 - (Date.now() - started);
      const { result, status, consoleLog } = await bootOnce(
        prepared,
        n,
        command,
        budget,
        (chunk) => (pending ? output.push(chunk) : process.stdout.write(chunk)),
        abort.signal,
      );
      output.end();
      if (result.bootMs !== undefined) booted = `booted in ${seconds(result.bootMs)}`;
      const finished = output.files.filter((f) => f.exitCode !== undefined);
      if (pending && result.outcome === 'stalled' && n === 1 && !abort.signal.aborted) {
        const cut = output.files.find((f) => f.exitCode === undefined)?.file ?? '(between files)';
        log(
          `the guest fell silent for ${STALL_TIMEOUT_S} s in ${cut} (killed): booting once more for the ${pending.length - finished.length} files not finished`,
        );
        done.push(...finished);
        pending = pending.filter((f) => !finished.some((d) => d.file === f));
        continue;
      }
      done.push(...output.files);
      // 6. Say how it went; tap on the host reports on the test files' TAP; say how long each part took.
      code = report(result, status, consoleLog);
      if (files) code = reportFiles(files, done) || code;
      log(`${booted}, ${n} boot${n > 1 ? 's' : ''}, ${seconds(Date.now() - started)} in all`);
      break;
    }
    if (process.env.TSPROC_VM_KEEP) log(`kept ${tmp}`);
    return code;
  } finally {
    if (!process.env.TSPROC_VM_KEEP) rmSync(tmp, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    log(formatError(err));
    process.exitCode = 1;
  },
);
