// Carries out a RunPlan, step by step. Until the monitor reports in, this process cleans up after a
// failure; from then on the monitor owns the container (and its cleanup), never this CLI.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { CgroupLayout } from '../src/cgroup/layout.js';
import { TsprocError, wrapError } from '../src/errors.js';
import { capabilityMask } from './capabilities.js';
import { createCgroup, removeCgroup } from './cgroup/cgroup-create.js';
import { planCgroup, procsFiles } from './cgroup/cgroup-plan.js';
import { etcFiles } from './etc-files.js';
import { exitStatus } from './exit-status.js';
import { encodeHelperConfig, type HelperConfig } from './helper-config.js';
import { errnoCode, failureError, type HelperEvent, parseEvent } from './helper-events.js';
import { checkLxcfs } from './lxcfs-check.js';
import { mountTable, rootMounts } from './mount-table.js';
import type { RunPlan } from './plan.js';
import { paths, type Roots } from './roots.js';
import { createStateDir, removeState, reserveGeneratedName, reserveName, STATE_FILES } from './state.js';

export const HELPER = fileURLToPath(new URL('../../native/build/tsproc-helper', import.meta.url));

/** Signals a foreground run passes on (through the monitor, which is the container's parent). */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export interface RunContext {
  roots: Roots;
  layout: CgroupLayout;
  /** the name was generated (another one is taken if it clashes) */
  generatedName: boolean;
  warn(message: string): void;
}

/** The helper's plan for this container: namespaces, identity, mounts, cgroups, cleanup. */
export function helperConfig(plan: RunPlan, stateDir: string, cg: ReturnType<typeof planCgroup>, roots: Roots): HelperConfig {
  const root = rootMounts(plan.root, stateDir);
  return {
    id: plan.id,
    rootfs: root.rootfs,
    namespaces: ['pid', 'mount', 'uts', 'ipc', ...(plan.net === 'none' ? (['net'] as const) : []), 'cgroup'],
    hostname: plan.hostname,
    loopback: plan.net === 'none',
    readonlyRoot: plan.readonlyRoot,
    ...(plan.privileged ? {} : { caps: capabilityMask(plan.capabilities) }),
    noNewPrivs: plan.noNewPrivs,
    user: plan.process.user,
    cwd: plan.process.cwd,
    env: plan.process.env,
    args: plan.process.args,
    init: plan.process.init,
    cgroupProcs: procsFiles(cg),
    ...(cg.oomCounter ? { oomCounter: cg.oomCounter } : {}),
    monitorPidFile: `${stateDir}/${STATE_FILES.monitorPid}`,
    containerPidFile: `${stateDir}/${STATE_FILES.containerPid}`,
    prepare: root.prepare,
    ops: mountTable(plan, stateDir, cg),
    // the container's mounts live in its own mount namespace and go with it; nothing to unmount on the host
    cleanup: { umount: [], rmdir: cg.hierarchies.map((h) => h.dir), remove: [stateDir, paths.name(roots, plan.name)] },
  };
}

export async function runContainer(plan: RunPlan, ctx: RunContext): Promise<number> {
  const { roots } = ctx;
  // 1. Refuse what would fail later, before anything is created: a missing lxcfs mount.
  if (plan.lxcfsRoot) await checkLxcfs(plan.lxcfsRoot);
  // 2. The name: taken atomically (a generated one that clashes is drawn again).
  if (ctx.generatedName) {
    try {
      reserveName(roots, plan.name, plan.id);
    } catch (err) {
      if (!(err instanceof TsprocError && err.code === 'EEXIST')) throw err;
      plan = { ...plan, name: reserveGeneratedName(roots, plan.id) };
    }
  } else reserveName(roots, plan.name, plan.id);
  const cg = planCgroup(ctx.layout, plan.cgroupParent, plan.id);
  let stateDir: string;
  let config: ReturnType<typeof encodeHelperConfig>;
  try {
    // 3. The state directory: the record other commands read, and the container's /etc files.
    let resolv: string | undefined;
    try {
      resolv = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      resolv = undefined;
    }
    stateDir = createStateDir(roots, { id: plan.id, name: plan.name, created: new Date().toISOString(), plan, cgroup: cg }, etcFiles(plan, resolv));
    // 4. The cgroup, limits written before anything runs in it.
    for (const w of createCgroup(cg, plan.limits).warnings) ctx.warn(w);
    // 5. The helper's plan.
    config = encodeHelperConfig(helperConfig(plan, stateDir, cg, roots));
    writeFileSync(`${stateDir}/${STATE_FILES.helperConfig}`, config.text, { mode: 0o600 });
  } catch (err) {
    undo(plan, cg, roots);
    throw err;
  }
  // 6. The helper forks the monitor, which starts the container and reports on fd 3.
  return await monitored(plan, cg, roots, `${stateDir}/${STATE_FILES.helperConfig}`, config.describe, ctx);
}

function undo(plan: RunPlan, cg: ReturnType<typeof planCgroup>, roots: Roots): void {
  try {
    removeCgroup(cg);
  } finally {
    removeState(roots, plan.id, plan.name);
  }
}

async function monitored(plan: RunPlan, cg: ReturnType<typeof planCgroup>, roots: Roots, configPath: string, describe: (line: number) => string | undefined, ctx: RunContext): Promise<number> {
  const child = spawn(HELPER, ['run', configPath], { stdio: [plan.process.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit', 'pipe'] });
  let monitorPid: number | undefined;
  const pending: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => {
    if (monitorPid === undefined) pending.push(sig);
    else process.kill(monitorPid, sig);
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  let result: { code: number; message?: string } | undefined;
  let failure: TsprocError | undefined;
  try {
    const lines = createInterface({ input: child.stdio[3] as Readable });
    const events = (async () => {
      for await (const line of lines) {
        const e: HelperEvent | undefined = parseEvent(line);
        if (e?.kind === 'monitor') {
          monitorPid = e.pid;
          for (const sig of pending.splice(0)) process.kill(e.pid, sig);
        } else if (e?.kind === 'failed') {
          failure = failureError(e, { describe, command: plan.process.args[0]!, cwd: plan.process.cwd });
        } else if (e?.kind === 'exit') {
          result = exitStatus(e);
        } else if (e?.kind === 'cleanup-failed') {
          ctx.warn(`cleaning up after the container: ${e.step} ${e.path} failed: ${errnoCode(e.errno)}`);
        }
      }
    })();
    const err = await Promise.race([events.then(() => undefined), spawnError]);
    if (err) throw wrapError(err, `cannot start the runner's helper ${HELPER} (npm install builds it)`, { exitCode: 125 });
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
    // the monitor never reported in: nobody else will clean up
    if (monitorPid === undefined) undo(plan, cg, roots);
  }
  if (failure) throw failure;
  if (!result) {
    throw new TsprocError(monitorPid === undefined ? 'the runner\'s helper failed before starting its monitor' : `the container's monitor (pid ${monitorPid}) ended without reporting an exit status`, { exitCode: 125 });
  }
  if (result.message) ctx.warn(result.message);
  return result.code;
}
