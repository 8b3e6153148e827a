// Which seccomp filter a container's processes get (`run` and `exec` alike): tsproc's default profile
// (docker's), a profile file, or none (unconfined; --privileged); with --lxcfs, in the same filter,
// sysinfo(2) goes to the container's monitor (docs/runner.md, "Seccomp" and "sysinfo").
import { readFileSync } from 'node:fs';
import { arch, release } from 'node:os';
import { compileFilter, type CompiledFilter } from './compile.js';
import { cachedFilter } from './filter-cache.js';
import { parseProfile, resolveProfile, type HostFacts, type ResolvedProfile, type SeccompProfile } from './profile.js';

/** --security-opt seccomp=...: kept in the record, so that `exec` gets what `run` got. */
export type SeccompOption = { mode: 'default' } | { mode: 'unconfined' } | { mode: 'file'; path: string; profile: SeccompProfile };

/** The calls the monitor answers (--lxcfs). */
export const NOTIFIED_CALLS = ['sysinfo'] as const;

export const DEFAULT_PROFILE_PATH = new URL('../../../runner/seccomp/default.json', import.meta.url);

let builtIn: SeccompProfile | undefined;

/** tsproc's default profile, runner/seccomp/default.json. */
export function defaultProfile(): SeccompProfile {
  builtIn ??= parseProfile(readFileSync(DEFAULT_PROFILE_PATH, 'utf8'), 'runner/seccomp/default.json');
  if (!builtIn) throw new Error('runner/seccomp/default.json holds no profile');
  return builtIn;
}

/** Node's architecture name → Go's (the names of a profile's includes and excludes). */
const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  s390x: 's390x',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

export function hostFacts(): HostFacts {
  const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
  return { arch: GO_ARCH[arch()] ?? arch(), kernel: [major, minor] };
}

/** What a container's seccomp depends on in its plan. */
export interface FilterInputs {
  /** undefined: a record from before seccomp (such a container runs without a filter) */
  seccomp?: SeccompOption;
  privileged: boolean;
  /** the bounding set: a profile's capability exceptions follow it */
  capabilities: string[];
  lxcfsRoot?: string;
}

/** Every call allowed on every x86 ABI: --privileged or unconfined, with only sysinfo to notify. */
const ALLOW_ALL: ResolvedProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  flags: [],
  rules: [],
};

export interface FilterOptions {
  /** the host the filter is for (tests); this one by default */
  host?: HostFacts;
  /** keep compiled filters here (filter-cache.ts): the state root's seccomp/ */
  cacheDir?: string;
}

/** The filter for a container's processes; undefined: none. */
export function containerFilter(plan: FilterInputs, options: FilterOptions = {}): CompiledFilter | undefined {
  if (plan.seccomp === undefined) return undefined;
  const notify = plan.lxcfsRoot ? NOTIFIED_CALLS : [];
  // docker: --privileged runs without a profile, whatever --security-opt says
  const option: SeccompOption = plan.privileged ? { mode: 'unconfined' } : plan.seccomp;
  if (option.mode === 'unconfined' && notify.length === 0) return undefined;
  const host = options.host ?? hostFacts();
  const compile = () => {
    const p = option.mode === 'file' ? option.profile : option.mode === 'default' ? defaultProfile() : undefined;
    return compileFilter(p ? resolveProfile(p, plan.capabilities, host) : ALLOW_ALL, host, notify);
  };
  if (options.cacheDir === undefined) return compile();
  // the profile as text (the default one's file as it is: a hit never parses it), and what else compile reads
  const text =
    option.mode === 'default' ? readFileSync(DEFAULT_PROFILE_PATH, 'utf8') : option.mode === 'file' ? JSON.stringify(option.profile) : null;
  return cachedFilter(options.cacheDir, { profile: text, rest: { capabilities: plan.capabilities, host, notify } }, compile);
}
