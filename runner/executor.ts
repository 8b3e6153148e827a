// Carries out a RunPlan, step by step. Until the monitor reports in, this process cleans up after a
// failure; from then on the monitor owns the container (and its cleanup), never this CLI. The record,
// naming this process as the creator, comes first: a `run` killed at any step leaves a container that
// other commands list, know for dead once this process is gone, and remove whole (container-owner.ts).
import { writeFileSync } from 'node:fs';
import type { CgroupLayout } from '../src/cgroup-layout.js';
import { formatError } from '../src/errors.js';
import { ownIdentity } from '../src/process-identity.js';
import { capabilityMask } from './capabilities.js';
import { createCgroup } from './cgroup/cgroup-create.js';
import { planCgroup, procsFiles } from './cgroup/cgroup-plan.js';
import { DEFAULT_DEVICES, type DeviceRule } from './cgroup/device-rules.js';
import { etcFiles, hostResolvConf } from './etc-files.js';
import { encodeHelperConfig, stdioConfig, type HelperConfig, type Namespace } from './helper-config.js';
import { formatExitFile } from './exit-file.js';
import { HelperFailure } from './helper-events.js';
import { requireHelper, runHelper } from './helper-process.js';
import { prepareImageRoot } from './image-run.js';
import { mountTable, rootMounts } from './mount-table.js';
import { shortId } from './names.js';
import type { RunPlan } from './plan.js';
import { paths, type Roots } from './roots.js';
import { type ContainerRecord, createRecord, createStateDir, RECORD_FILES, STATE_FILES, takeName } from './state.js';
import { containerFilter } from './seccomp/container-filter.js';
import { removeContainer } from './teardown.js';
import { testPoint } from './test-hooks.js';

export interface RunContext {
  roots: Roots;
  layout: CgroupLayout;
  /** the name was generated (another one is taken if it clashes) */
  generatedName: boolean;
  warn(message: string): void;
}

/** The namespaces a container has of its own (and `tsproc exec` joins). */
export function containerNamespaces(plan: RunPlan): Namespace[] {
  return ['pid', 'mount', 'uts', 'ipc', ...(plan.net === 'none' ? (['net'] as const) : []), 'cgroup'];
}

/** The devices a container may use: docker's list; every one with --privileged (undefined: no rules). */
export function containerDevices(plan: RunPlan): DeviceRule[] | undefined {
  return plan.privileged ? undefined : DEFAULT_DEVICES;
}

/** The helper config for this container: namespaces, identity, mounts, cgroups, cleanup. */
export function helperConfig(plan: RunPlan, stateDir: string, cg: ReturnType<typeof planCgroup>, roots: Roots): HelperConfig {
  const root = rootMounts(plan.root, !plan.privileged);
  const devices = containerDevices(plan);
  // cgroup2 (v2's hierarchy, and hybrid's next to v1's devices controller) filters devices with BPF
  const filters = cg.hierarchies.filter((h) => h.unified).map((h) => h.dir);
  const seccomp = containerFilter(plan);
  return {
    id: plan.id,
    rootfs: root.rootfs,
    namespaces: containerNamespaces(plan),
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
    ...stdioConfig(plan.process.tty, plan.process.stdin),
    cgroupProcs: procsFiles(cg),
    ...(devices && filters.length > 0 ? { devices: { rules: devices, filters } } : {}),
    ...(cg.oomCounter ? { oomCounter: cg.oomCounter } : {}),
    monitorPidFile: `${stateDir}/${STATE_FILES.monitorPid}`,
    // in the record: its time is when the container started, also once it has ended
    containerPidFile: `${paths.record(roots, plan.id)}/${RECORD_FILES.containerPid}`,
    exitFile: `${paths.record(roots, plan.id)}/${RECORD_FILES.exit}`,
    waitFile: `${stateDir}/${STATE_FILES.wait}`,
    log: { path: `${paths.record(roots, plan.id)}/${RECORD_FILES.log}`, maxSize: plan.logMaxSize },
    control: `${stateDir}/${STATE_FILES.control}`,
    ...(seccomp ? { seccomp } : {}),
    ...(seccomp?.listener ? { sysinfo: { socket: `${stateDir}/${STATE_FILES.sysinfoSocket}` } } : {}),
    prepare: root.prepare,
    ops: mountTable(plan, stateDir, cg),
    // the container's mounts live in its own mount namespace and go with it; nothing to unmount on the host
    cleanup: {
      umount: [],
      rmdir: cg.hierarchies.map((h) => h.dir),
      ...(plan.autoRemove ? { name: { path: paths.name(roots, plan.name), id: plan.id } } : {}),
      // the state last: once it is gone (what rm waits for), the rest is done
      remove: [...(plan.autoRemove ? [paths.record(roots, plan.id)] : []), stateDir],
    },
  };
}

export async function runContainer(plan: RunPlan, ctx: RunContext): Promise<number> {
  const { roots } = ctx;
  // 1. Refuse what would fail later, before anything is created: no helper, a missing lxcfs mount.
  requireHelper();
  if (plan.lxcfsRoot) await (await import('./lxcfs-check.js')).checkLxcfs(plan.lxcfsRoot); // loaded for --lxcfs only
  // 2. The record (the plan, the cgroup paths, this process as its creator), whole or not at all.
  const cg = planCgroup(ctx.layout, plan.cgroupParent, plan.id);
  let record: ContainerRecord = {
    id: plan.id,
    name: plan.name,
    created: new Date().toISOString(),
    plan,
    cgroup: cg,
    detached: plan.detach,
    creator: ownIdentity(),
  };
  createRecord(roots, record);
  let stateDir: string;
  let config: ReturnType<typeof encodeHelperConfig>;
  try {
    testPoint('record');
    // 3. The name: taken atomically (a generated one that clashes is drawn again, into the record first).
    record = takeName(roots, record, ctx.generatedName);
    plan = record.plan;
    testPoint('name');
    // 4. An image's root, in the record directory, as planned (init layer with the /etc files, writable
    //    layer; or a vfs copy): the plan, and so the record, already says which.
    const etc = etcFiles(plan, hostResolvConf(plan.net));
    if (plan.image) {
      prepareImageRoot(plan, roots, etc);
      testPoint('root');
    }
    // 5. The state directory (with a --rootfs container's /etc files, bound over the root's).
    stateDir = createStateDir(roots, plan.id, plan.image ? {} : etc);
    testPoint('state');
    // 6. The cgroup, limits written before anything runs in it.
    for (const w of createCgroup(cg, plan.limits, containerDevices(plan)).warnings) ctx.warn(w);
    // 7. The helper config: once it is written, the helper may be started (container-owner.ts looks for it).
    config = encodeHelperConfig(helperConfig(plan, stateDir, cg, roots));
    writeFileSync(`${stateDir}/${STATE_FILES.helperConfig}`, config.text, { mode: 0o600 });
    testPoint('config');
  } catch (err) {
    undo(roots, record, ctx.warn);
    throw err;
  }
  // 8. The helper forks the monitor, which starts the container and reports on fd 3.
  return await monitored(plan, record, `${stateDir}/${STATE_FILES.helperConfig}`, config.describe, ctx);
}

/**
 * A set-up that failed before the monitor took over: everything it made goes, the record last. What
 * cannot go (a cgroup still busy) stays listed with its record, for ps, rm and gc to finish.
 */
function undo(roots: Roots, record: ContainerRecord, warn: (m: string) => void): void {
  try {
    removeContainer(roots, record); // teardown.ts: the one teardown, as rm and gc do it
  } catch (err) {
    warn(`cannot remove what the set-up made (tsproc rm ${shortId(record.id)} finishes it): ${formatError(err)}`);
  }
}

async function monitored(
  plan: RunPlan,
  record: ContainerRecord,
  configPath: string,
  describe: (line: number) => string | undefined,
  ctx: RunContext,
): Promise<number> {
  // detached: nothing of ours goes to the container; its output goes to its log only
  const out = plan.detach ? 'ignore' : 'inherit';
  let monitorPid: number | undefined;
  try {
    const r = await runHelper({
      mode: 'run',
      configPath,
      stdio: [plan.process.stdin && !plan.detach ? 'inherit' : 'ignore', out, out],
      command: plan.process.args[0]!,
      cwd: plan.process.cwd,
      describe,
      detach: plan.detach,
      warn: ctx.warn,
      onMonitor: (pid) => (monitorPid = pid),
    });
    if (plan.detach) process.stdout.write(`${plan.id}\n`);
    return r.code;
  } catch (err) {
    // the monitor reported the set-up's failure and cleaned up: the record says how it ended
    if (monitorPid !== undefined && err instanceof HelperFailure) recordFailure(ctx.roots, record, err.exitCode);
    throw err;
  } finally {
    // the monitor never reported in: nobody else will clean up
    if (monitorPid === undefined) undo(ctx.roots, record, ctx.warn);
  }
}

/** `code N 0` and `failed` (runner/exit-file.ts), unless the monitor recorded an exit after all. */
function recordFailure(roots: Roots, record: ContainerRecord, code: number): void {
  try {
    writeFileSync(
      `${paths.record(roots, record.id)}/${RECORD_FILES.exit}`,
      formatExitFile({ how: 'code', value: code, oomKills: 0, note: 'set-up failed' }),
      { flag: 'wx' },
    );
  } catch {
    /* recorded already, or removed (--rm): nothing to add */
  }
}
