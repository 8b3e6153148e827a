// `tsproc exec`: a command in a running container: its namespaces, cgroups, capabilities and
// no_new_privs, its user and environment unless told otherwise; exits with the command's status.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { TsprocError } from '../src/errors.js';
import { capabilityMask } from './capabilities.js';
import { procsFiles } from './cgroup/cgroup-plan.js';
import type { ContainerInfo } from './containers.js';
import { containerNamespaces } from './executor.js';
import { parseEnv } from './flag-values.js';
import { encodeHelperConfig, stdioConfig, type HelperConfig } from './helper-config.js';
import { requireHelper, runHelper } from './helper-process.js';
import { shortId } from './names.js';
import type { Probe } from './host-probe.js';
import { rootFile } from './root-file.js';
import { paths, type Roots } from './roots.js';
import { containerFilter } from './seccomp/container-filter.js';
import { STATE_FILES } from './state.js';
import { resolveUser } from './user.js';

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
}

/** The helper config for this exec (the probe reads the root's user database); `stateDir`: the
 *  container's state directory, where its monitor's sysinfo socket is (--lxcfs); `seccompCache`: where
 *  compiled filters are kept, as `run` keeps them (runner/seccomp/filter-cache.ts). */
export function execConfig(
  info: ContainerInfo,
  f: ExecFlags,
  args: string[],
  probe: Probe,
  stateDir?: string,
  seccompCache?: string,
): HelperConfig {
  const { plan } = info.record;
  if (args.length === 0 || args[0] === '')
    throw new TsprocError('no command given: tsproc exec [OPTIONS] NAME CMD [ARG...]', { code: 'EINVAL', exitCode: 125 });
  if (f.workdir !== undefined && !f.workdir.startsWith('/'))
    throw new TsprocError(`-w: wants an absolute path in the container, not ${JSON.stringify(f.workdir)}`, {
      code: 'EINVAL',
      exitCode: 125,
    });
  const user =
    f.user === undefined
      ? plan.process.user
      : resolveUser('-u', f.user, rootFile(plan.root, 'etc/passwd', probe), rootFile(plan.root, 'etc/group', probe));
  const env = new Map(plan.process.env.map((e) => [e.slice(0, e.indexOf('=')), e]));
  if (f.user !== undefined) env.set('HOME', `HOME=${user.home}`);
  // -t: TERM=xterm unless the container's environment names one, as docker's exec (and run -t) has it
  if (f.tty && !env.has('TERM')) env.set('TERM', 'TERM=xterm');
  for (const e of f.env ?? []) {
    const kv = parseEnv('-e', e, probe.env);
    if (kv !== undefined) env.set(kv.slice(0, kv.indexOf('=')), kv);
  }
  // the container's filter again: a filter is inherited only by fork, and this process is forked outside
  const seccomp = containerFilter(plan, seccompCache === undefined ? {} : { cacheDir: seccompCache });
  return {
    id: plan.id,
    targetPid: info.pid!,
    rootfs: '',
    namespaces: containerNamespaces(plan),
    loopback: false,
    readonlyRoot: false,
    ...(plan.privileged ? {} : { caps: capabilityMask(plan.capabilities) }),
    noNewPrivs: plan.noNewPrivs,
    user,
    cwd: f.workdir ?? plan.process.cwd,
    env: [...env.values()],
    args,
    init: false,
    ...stdioConfig(f.tty === true, f.interactive === true),
    cgroupProcs: procsFiles(info.record.cgroup),
    ...(seccomp ? { seccomp } : {}),
    // its sysinfo calls go to the container's monitor, which outlives this exec
    ...(seccomp?.listener && stateDir !== undefined ? { sysinfo: { socket: `${stateDir}/${STATE_FILES.sysinfoSocket}` } } : {}),
    prepare: [],
    ops: [],
    cleanup: { umount: [], rmdir: [], remove: [] },
  };
}

export async function execInContainer(
  roots: Roots,
  info: ContainerInfo,
  f: ExecFlags,
  args: string[],
  probe: Probe,
  warn: (m: string) => void,
): Promise<number> {
  if (info.status !== 'running')
    throw new TsprocError(`container ${info.record.name} (${shortId(info.record.id)}) is not running`, { code: 'ESRCH', exitCode: 125 });
  requireHelper();
  const stateDir = paths.container(roots, info.record.id);
  const config = encodeHelperConfig(execConfig(info, f, args, probe, stateDir, paths.seccompCache(roots)));
  // in the container's state directory: it goes with the container whatever happens to us
  const configPath = `${stateDir}/exec-${randomBytes(4).toString('hex')}.conf`;
  try {
    writeFileSync(configPath, config.text, { mode: 0o600 });
    const r = await runHelper({
      mode: 'exec',
      configPath,
      stdio: [f.interactive ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      command: args[0]!,
      cwd: f.workdir ?? info.record.plan.process.cwd,
      describe: config.describe,
      detach: false,
      warn,
    });
    return r.code;
  } finally {
    rmSync(configPath, { force: true });
  }
}
