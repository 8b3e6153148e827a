// `tsproc run` flags → a RunPlan, for a --rootfs directory or an image (its config applied as docker
// does). Pure but for the Probe it is handed, so tests need no root.
import { posix } from 'node:path';
import { TsprocError } from '../src/errors.js';
import { DEFAULT_MOUNT_DIR } from '../src/served-files.js';
import { capabilitySet } from './capabilities.js';
import {
  badValue,
  checkCgroupParent,
  checkHostname,
  checkName,
  parseAddHost,
  parseBytes,
  parseCpus,
  parseCpuset,
  parseEnv,
  parseEnvFile,
  parsePidsLimit,
  parseVolume,
} from './flag-values.js';
import type { Digest } from './image/digest.js';
import { applyImageConfig, type ImageConfig, mergeEnv } from './image/image-config.js';
import { overlayRoot, plannedRoot, type StorageDriver } from './image/prepare-root.js';
import type { Limits, PlanImage, RootSpec, RunPlan, Volume } from './plan.js';
import type { SeccompOption } from './seccomp/container-filter.js';
import { parseProfile } from './seccomp/profile.js';
import { resolveUser } from './user.js';
import type { Probe } from './host-probe.js';
import { rootFile } from './root-file.js';

export type { Probe };

/** The flags as commander hands them over: strings, repeated ones as lists. */
export interface RunFlags {
  rootfs?: string;
  /** images: overlay or vfs (default: automatic) */
  storageDriver?: string;
  entrypoint?: string;
  name?: string;
  rm?: boolean;
  detach?: boolean;
  logOpt?: string[];
  hostname?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  volume?: string[];
  readOnly?: boolean;
  tty?: boolean;
  interactive?: boolean;
  init?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpusetCpus?: string;
  pidsLimit?: string;
  cgroupParent?: string;
  net?: string;
  addHost?: string[];
  lxcfs?: boolean;
  lxcfsRoot?: string;
  securityOpt?: string[];
}

/** An image found in the store (runner/image-run.ts): what planning needs of it. */
export interface ImageSource {
  id: Digest;
  ref: string;
  config: ImageConfig;
  /** its layer directories, top first */
  layers: string[];
  /** where the container's root will be prepared: DATA/containers/ID */
  containerDir: string;
  /** chosen for the container's directory (runner/image/storage-driver.ts), or --storage-driver's */
  driver: StorageDriver;
}

/** What planning needs to know of the world. */
export const DEFAULT_CGROUP_PARENT = 'tsproc';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** docker's smallest --memory */
const MIN_MEMORY = 6 * 1024 * 1024;

function usage(message: string): TsprocError {
  return new TsprocError(message, { code: 'EINVAL', exitCode: 125 });
}

function limitsFrom(f: RunFlags, probe: Probe): Limits {
  const limits: Limits = {};
  if (f.memory !== undefined) {
    limits.memory = parseBytes('--memory', f.memory);
    if (limits.memory < MIN_MEMORY) throw badValue('--memory', f.memory, "wants at least 6m (docker's minimum)");
  }
  // 0 is docker's "not set": the default below, and no need of --memory
  const swap = f.memorySwap === undefined || f.memorySwap === '-1' ? f.memorySwap : parseBytes('--memory-swap', f.memorySwap) || undefined;
  if (swap !== undefined) {
    if (limits.memory === undefined) throw usage('--memory-swap needs --memory as well (it is memory plus swap)');
    limits.memorySwap = swap === '-1' ? 'max' : swap;
    if (limits.memorySwap !== 'max' && limits.memorySwap < limits.memory) {
      throw badValue('--memory-swap', f.memorySwap!, `wants at least --memory (${f.memory}): it is memory plus swap`);
    }
  } else if (limits.memory !== undefined) limits.memorySwap = 2 * limits.memory; // docker's default: as much swap as memory
  if (f.cpus !== undefined) limits.cpus = parseCpus('--cpus', f.cpus, probe.onlineCpus.length);
  if (f.cpusetCpus !== undefined) limits.cpusetCpus = parseCpuset('--cpuset-cpus', f.cpusetCpus, probe.onlineCpus);
  if (f.pidsLimit !== undefined) limits.pidsLimit = parsePidsLimit('--pids-limit', f.pidsLimit);
  return limits;
}

function volumesFrom(f: RunFlags, probe: Probe): Volume[] {
  return (f.volume ?? []).map((v) => {
    const parsed = parseVolume('-v', v);
    const kind = probe.kind(parsed.source);
    if (kind === 'missing') throw badValue('-v', v, `wants an existing SRC (${parsed.source} does not exist)`);
    return { ...parsed, type: kind === 'dir' ? 'dir' : 'file' };
  });
}

const NO_CONFIG: ImageConfig = { entrypoint: [], cmd: [], env: [], workingDir: '', user: '' };

/** The root an image's container will get with the driver chosen: its overlay, or the vfs copy's directory. */
function imageRootFrom(f: RunFlags, image: ImageSource): { root: RootSpec; image: PlanImage } {
  return {
    root: plannedRoot(image.containerDir, image.layers, f.readOnly ?? false, image.driver),
    image: { id: image.id, ref: image.ref, driver: image.driver },
  };
}

function rootFrom(f: RunFlags, probe: Probe): RootSpec {
  if (f.rootfs === undefined || f.rootfs === '') throw usage('--rootfs DIR is required (the root filesystem to run in)');
  if (f.storageDriver !== undefined) throw usage('--storage-driver is for images: a --rootfs directory is used in place');
  const path = posix.resolve(f.rootfs);
  const kind = probe.kind(path);
  if (kind === 'missing') throw new TsprocError(`--rootfs ${f.rootfs}: no such directory`, { code: 'ENOENT', path, exitCode: 125 });
  if (kind !== 'dir') throw new TsprocError(`--rootfs ${f.rootfs}: not a directory`, { code: 'ENOTDIR', path, exitCode: 125 });
  if (path === '/') throw badValue('--rootfs', f.rootfs, "wants a directory other than the host's /");
  return { kind: 'dir', path };
}

/** `args`: the command after IMAGE, or after --rootfs DIR. */
export function buildPlan(f: RunFlags, args: string[], ids: { id: string; name: string }, probe: Probe, image?: ImageSource): RunPlan {
  const { root, image: planImage } = image ? imageRootFrom(f, image) : { root: rootFrom(f, probe), image: undefined };
  if (!image && (args.length === 0 || args[0] === '')) throw usage('no command given: tsproc run [OPTIONS] --rootfs DIR CMD [ARG...]');
  const net = f.net ?? 'none';
  if (net !== 'none' && net !== 'host') throw badValue('--net', net, 'wants none or host');
  const name = f.name === undefined ? ids.name : checkName('--name', f.name);
  const hostname =
    f.hostname !== undefined ? checkHostname('--hostname', f.hostname) : net === 'host' ? probe.hostHostname : ids.id.slice(0, 12);
  const fromFiles = (f.envFile ?? []).flatMap((file) => {
    const text = probe.readFile(file);
    if (text === undefined) throw new TsprocError(`--env-file ${file}: cannot read it`, { code: 'ENOENT', path: file, exitCode: 125 });
    return parseEnvFile(file, text, probe.env);
  });
  const fromFlags = (f.env ?? []).flatMap((e) => parseEnv('-e', e, probe.env) ?? []);
  // docker's rules: CMD replaces Cmd, --entrypoint replaces Entrypoint and drops Cmd, -e overrides Env by key
  const run = applyImageConfig(image?.config ?? NO_CONFIG, {
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint } : {}),
    cmd: args,
    env: [...fromFiles, ...fromFlags],
    ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
    ...(f.user !== undefined ? { user: f.user } : {}),
  });
  if (run.argv[0] === '') throw usage('no command given: the command is an empty string');
  const cwd = run.workdir;
  if (!posix.isAbsolute(cwd))
    throw badValue(f.workdir !== undefined ? '-w' : "the image's WorkingDir", cwd, 'wants an absolute path in the container');
  const userFlag = f.user !== undefined ? '-u' : "the image's User";
  // an image's root is not made yet: its user database is read through its layers, whichever the driver
  const users = image ? overlayRoot(image.containerDir, image.layers, true) : root;
  const user = resolveUser(
    userFlag,
    run.user === '' ? undefined : run.user,
    rootFile(users, 'etc/passwd', probe),
    rootFile(users, 'etc/group', probe),
  );
  const env = mergeEnv([`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, `HOME=${user.home}`, ...(f.tty ? ['TERM=xterm'] : [])], run.env);
  const lxcfsRoot = f.lxcfsRoot !== undefined ? posix.resolve(f.lxcfsRoot) : f.lxcfs ? DEFAULT_MOUNT_DIR : undefined;
  return {
    id: ids.id,
    name,
    root,
    ...(planImage ? { image: planImage } : {}),
    readonlyRoot: f.readOnly ?? false,
    hostname,
    net,
    hosts: (f.addHost ?? []).map((h) => parseAddHost('--add-host', h)),
    process: { args: run.argv, env, cwd, user, tty: f.tty ?? false, stdin: f.interactive ?? false, init: f.init ?? false },
    volumes: volumesFrom(f, probe),
    ...(lxcfsRoot ? { lxcfsRoot } : {}),
    limits: limitsFrom(f, probe),
    cgroupParent: checkCgroupParent('--cgroup-parent', f.cgroupParent ?? DEFAULT_CGROUP_PARENT),
    capabilities: capabilitySet(f.capAdd ?? [], f.capDrop ?? [], f.privileged ?? false),
    privileged: f.privileged ?? false,
    noNewPrivs: !(f.privileged ?? false),
    seccomp: seccompFrom(f.securityOpt ?? [], probe),
    autoRemove: f.rm ?? false,
    detach: f.detach ?? false,
    logMaxSize: logMaxSize(f.logOpt ?? []),
  };
}

/** --security-opt seccomp=unconfined|FILE (or docker's older seccomp:...); the last one wins. */
function seccompFrom(opts: string[], probe: Probe): SeccompOption {
  let option: SeccompOption = { mode: 'default' };
  for (const o of opts) {
    const m = /^seccomp[=:](.*)$/s.exec(o);
    if (!m || m[1] === '')
      throw badValue(
        '--security-opt',
        o,
        "wants seccomp=unconfined or seccomp=PROFILE.json (docker's format; the only option tsproc takes)",
      );
    if (m[1] === 'unconfined') {
      option = { mode: 'unconfined' };
      continue;
    }
    const path = posix.resolve(m[1]!);
    const text = probe.readFile(path);
    const where = `--security-opt seccomp=${m[1]}`;
    if (text === undefined) throw new TsprocError(`${where}: cannot read it`, { code: 'ENOENT', path, exitCode: 125 });
    const profile = parseProfile(text, where);
    option = profile ? { mode: 'file', path, profile } : { mode: 'unconfined' };
  }
  return option;
}

export const DEFAULT_LOG_MAX_SIZE = 10 * 1024 * 1024;

/** --log-opt max-size=10m (docker's json-file option; the only one tsproc takes). */
function logMaxSize(opts: string[]): number {
  let max = DEFAULT_LOG_MAX_SIZE;
  for (const o of opts) {
    const m = /^max-size=(.+)$/.exec(o);
    if (!m) throw badValue('--log-opt', o, 'wants max-size=SIZE (the only log option)');
    max = parseBytes('--log-opt max-size', m[1]!);
    if (max < 1024) throw badValue('--log-opt', o, 'wants a max-size of at least 1k');
  }
  return max;
}
