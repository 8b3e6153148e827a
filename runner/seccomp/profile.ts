// Seccomp profiles in docker's JSON format: read and checked (parseProfile), then narrowed to the
// rules that apply to one container on this host (resolveProfile), as docker does before it hands
// the profile to runc: `includes` and `excludes` by capability, architecture and kernel version.
import { TsprocError } from '../../src/errors.js';

export const ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
export type Action = (typeof ACTIONS)[number];

export const OPERATORS = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** One argument comparison; for SCMP_CMP_MASKED_EQ, `value` is the mask and `valueTwo` the value. */
export interface ProfileArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: Operator;
}

export interface ProfileFilter {
  caps?: string[];
  /** Go's architecture names: amd64, x86, x32, arm64, ... */
  arches?: string[];
  /** "MAJOR.MINOR" */
  minKernel?: string;
}

export interface ProfileRule {
  names: string[];
  action: Action;
  errnoRet?: number;
  args?: ProfileArg[];
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
  comment?: string;
}

export interface SeccompProfile {
  defaultAction: Action;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_*; or archMap, one entry per native architecture with its sub-architectures */
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  /** SECCOMP_FILTER_FLAG_* */
  flags?: string[];
  syscalls: ProfileRule[];
}

/** The rules of a profile that apply to one container: what the filter is compiled from. */
export interface ResolvedProfile {
  defaultAction: Action;
  defaultErrnoRet?: number;
  architectures: string[];
  flags: string[];
  rules: { names: string[]; action: Action; errnoRet?: number; args: ProfileArg[] }[];
}

/** What resolving depends on: the host's architecture (Go's name) and kernel version. */
export interface HostFacts {
  arch: string;
  kernel: [number, number];
}

export const FILTER_FLAGS = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] as const;

class ProfileError extends TsprocError {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Read and check a profile; `where` names it in messages ("--security-opt seccomp=FILE"). */
export function parseProfile(text: string, where: string): SeccompProfile | undefined {
  const bad = (what: string) => new ProfileError(`${where}: ${what}`, { code: 'EINVAL', exitCode: 125 });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw bad('wants a JSON object');
  // docker's rule: no default action and no rules is no profile at all (unconfined)
  if (raw.defaultAction === undefined && (raw.syscalls === undefined || (Array.isArray(raw.syscalls) && raw.syscalls.length === 0)))
    return undefined;
  const action = (v: unknown, at: string): Action => {
    if (!ACTIONS.includes(v as Action)) throw bad(`${at}: unknown action ${JSON.stringify(v)} (${ACTIONS.join(', ')})`);
    if (v === 'SCMP_ACT_NOTIFY')
      throw bad(`${at}: SCMP_ACT_NOTIFY needs a listener, and tsproc's only listener is its own (sysinfo, with --lxcfs)`);
    return v as Action;
  };
  const errno = (v: unknown, at: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!isCount(v) || v > 4095) throw bad(`${at}: wants an errno from 0 to 4095, not ${JSON.stringify(v)}`);
    return v;
  };
  for (const k of ['listenerPath', 'listenerMetadata'])
    if (raw[k] !== undefined && raw[k] !== '')
      throw bad(`${k}: tsproc runs no seccomp agent for a profile (its own listener answers sysinfo with --lxcfs)`);
  const profile: SeccompProfile = { defaultAction: action(raw.defaultAction, 'defaultAction'), syscalls: [] };
  const defaultErrnoRet = errno(raw.defaultErrnoRet, 'defaultErrnoRet');
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = defaultErrnoRet;
  if (raw.architectures !== undefined && raw.architectures !== null) {
    if (!isStrings(raw.architectures)) throw bad('architectures: wants a list of SCMP_ARCH_* names');
    profile.architectures = raw.architectures;
  }
  if (raw.archMap !== undefined && raw.archMap !== null) {
    if (
      !Array.isArray(raw.archMap) ||
      !raw.archMap.every(
        (a) =>
          isObject(a) &&
          typeof a.architecture === 'string' &&
          (a.subArchitectures === null || a.subArchitectures === undefined || isStrings(a.subArchitectures)),
      )
    ) {
      throw bad('archMap: wants a list of {"architecture": ..., "subArchitectures": [...]}');
    }
    profile.archMap = raw.archMap.map((a) => ({
      architecture: a.architecture as string,
      subArchitectures: (a.subArchitectures as string[] | undefined) ?? null,
    }));
  }
  if (profile.architectures?.length && profile.archMap?.length) throw bad("both 'architectures' and 'archMap' are given: use one");
  if (raw.flags !== undefined && raw.flags !== null) {
    if (!isStrings(raw.flags) || !raw.flags.every((f) => (FILTER_FLAGS as readonly string[]).includes(f)))
      throw bad(`flags: wants some of ${FILTER_FLAGS.join(', ')}`);
    profile.flags = raw.flags;
  }
  if (raw.syscalls !== undefined && raw.syscalls !== null && !Array.isArray(raw.syscalls)) throw bad('syscalls: wants a list of rules');
  for (const [i, r] of ((raw.syscalls as unknown[] | undefined) ?? []).entries())
    profile.syscalls.push(parseRule(r, `syscalls[${i}]`, bad, action, errno));
  return profile;
}

function parseRule(
  r: unknown,
  at: string,
  bad: (what: string) => ProfileError,
  action: (v: unknown, at: string) => Action,
  errno: (v: unknown, at: string) => number | undefined,
): ProfileRule {
  if (!isObject(r)) throw bad(`${at}: wants an object`);
  if (r.name !== undefined && r.name !== '' && r.names !== undefined && (r.names as unknown[]).length > 0)
    throw bad(`${at}: both 'name' and 'names' are given: use one`);
  const names = r.name !== undefined && r.name !== '' ? [r.name] : r.names;
  if (!isStrings(names)) throw bad(`${at}: wants "names", a list of system call names`);
  const rule: ProfileRule = { names, action: action(r.action, `${at}.action`) };
  const e = errno(r.errnoRet, `${at}.errnoRet`);
  if (e !== undefined) rule.errnoRet = e;
  if (typeof r.comment === 'string') rule.comment = r.comment;
  if (r.args !== undefined && r.args !== null) {
    if (!Array.isArray(r.args)) throw bad(`${at}.args: wants a list`);
    rule.args = r.args.map((a, j) => {
      const w = `${at}.args[${j}]`;
      if (!isObject(a)) throw bad(`${w}: wants an object`);
      if (!Number.isInteger(a.index) || (a.index as number) < 0 || (a.index as number) > 5) throw bad(`${w}.index: wants 0 to 5`);
      // JSON numbers are doubles: values past 2^53 would arrive rounded, so they are refused
      for (const k of ['value', 'valueTwo'])
        if (a[k] !== undefined && !isCount(a[k]))
          throw bad(`${w}.${k}: wants a whole number from 0 to 2^53-1 (tsproc reads larger ones rounded)`);
      if (!OPERATORS.includes(a.op as Operator)) throw bad(`${w}.op: unknown operator ${JSON.stringify(a.op)} (${OPERATORS.join(', ')})`);
      return {
        index: a.index as number,
        value: (a.value as number | undefined) ?? 0,
        ...(a.valueTwo !== undefined ? { valueTwo: a.valueTwo as number } : {}),
        op: a.op as Operator,
      };
    });
  }
  for (const k of ['includes', 'excludes'] as const) {
    const f = r[k];
    if (f === undefined || f === null) continue;
    if (!isObject(f)) throw bad(`${at}.${k}: wants an object`);
    const filter: ProfileFilter = {};
    if (f.caps !== undefined && f.caps !== null) {
      if (!isStrings(f.caps)) throw bad(`${at}.${k}.caps: wants capability names`);
      filter.caps = f.caps;
    }
    if (f.arches !== undefined && f.arches !== null) {
      if (!isStrings(f.arches)) throw bad(`${at}.${k}.arches: wants architecture names`);
      filter.arches = f.arches;
    }
    if (f.minKernel !== undefined && f.minKernel !== '') {
      if (typeof f.minKernel !== 'string' || !/^[0-9]+\.[0-9]+$/.test(f.minKernel) || f.minKernel === '0.0')
        throw bad(`${at}.${k}.minKernel: wants "MAJOR.MINOR", such as "4.8"`);
      filter.minKernel = f.minKernel;
    }
    rule[k] = filter;
  }
  return rule;
}

function kernelAtLeast(host: HostFacts, min: string): boolean {
  const [major, minor] = min.split('.').map(Number) as [number, number];
  return host.kernel[0] > major || (host.kernel[0] === major && host.kernel[1] >= minor);
}

/** Does a rule apply to a container with these capabilities (its bounding set) on this host? docker's rules. */
function applies(rule: ProfileRule, caps: readonly string[], host: HostFacts): boolean {
  const ex = rule.excludes;
  if (ex?.arches?.includes(host.arch)) return false;
  if (ex?.caps?.some((c) => caps.includes(c))) return false;
  if (ex?.minKernel && kernelAtLeast(host, ex.minKernel)) return false;
  const inc = rule.includes;
  if (inc?.arches?.length && !inc.arches.includes(host.arch)) return false;
  if (inc?.caps?.some((c) => !caps.includes(c))) return false;
  if (inc?.minKernel && !kernelAtLeast(host, inc.minKernel)) return false;
  return true;
}

/** Go's architecture name → libseccomp's, for the native architecture of archMap. */
const NATIVE_SCMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
};

/**
 * The profile as it applies to a container whose bounding set is `caps` on this host. Rules whose
 * comparisons test one argument several times become one rule per comparison (any of them), as runc
 * reads them; otherwise a rule's comparisons must all hold.
 */
export function resolveProfile(p: SeccompProfile, caps: readonly string[], host: HostFacts): ResolvedProfile {
  const native = NATIVE_SCMP[host.arch];
  const mapped = p.archMap?.find((a) => a.architecture === native);
  const architectures = mapped
    ? [mapped.architecture, ...(mapped.subArchitectures ?? [])]
    : p.architectures?.length
      ? p.architectures
      : native
        ? [native]
        : [];
  const rules: ResolvedProfile['rules'] = [];
  for (const r of p.syscalls) {
    if (!applies(r, caps, host)) continue;
    const base = { names: r.names, action: r.action, ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}) };
    const args = r.args ?? [];
    const repeated = args.some((a, i) => args.findIndex((b) => b.index === a.index) !== i);
    if (repeated) for (const a of args) rules.push({ ...base, args: [a] });
    else rules.push({ ...base, args });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures,
    flags: p.flags ?? [],
    rules,
  };
}
