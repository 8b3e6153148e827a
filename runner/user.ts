// -u/--user NAME|UID[:GROUP|GID], resolved against the root's /etc/passwd and /etc/group as docker does.
import type { UserSpec } from './plan.js';
import { badValue } from './flag-values.js';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 7 && /^[0-9]+$/.test(f[2]!) && /^[0-9]+$/.test(f[3]!)
      ? [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }]
      : [];
  });
}

function parseGroup(text: string): { name: string; gid: number; members: string[] }[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 4 && /^[0-9]+$/.test(f[2]!) ? [{ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }] : [];
  });
}

const MAX_ID = 2 ** 32 - 2;

/**
 * The user to run as. `passwd` and `group` are the root's files (undefined when it has none). A
 * numeric uid need not exist (gid 0, home /, as docker does); a name must. The groups are docker's
 * (runc's GetExecUser, then moby's getUser): the primary group, then, for a user of the root's
 * passwd given without a group (NAME or UID, or the default root), every group of the root's
 * /etc/group that lists it; NAME:GROUP or UID:GID is exactly that group, no other.
 */
export function resolveUser(flag: string, value: string | undefined, passwd: string | undefined, group: string | undefined): UserSpec {
  const users = parsePasswd(passwd ?? '');
  const groups = parseGroup(group ?? '');
  const [who = '', grp] = (value ?? 'root').split(':', 2) as [string, string?];
  if (who === '' || grp === '') throw badValue(flag, value ?? '', 'wants NAME, UID, NAME:GROUP or UID:GID');
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (/^[0-9]+$/.test(who)) {
    uid = Number(who);
    if (uid > MAX_ID) throw badValue(flag, value!, `wants a uid up to ${MAX_ID}`);
    entry = users.find((u) => u.uid === uid);
  } else {
    entry = users.find((u) => u.name === who);
    if (!entry) {
      if (who === 'root' && value === undefined) return { uid: 0, gid: 0, groups: [0], home: '/root' };
      throw badValue(flag, value ?? who, `names a user the root's /etc/passwd does not have (${who})`);
    }
    uid = entry.uid;
  }
  let gid = entry?.gid ?? 0;
  if (grp !== undefined) {
    if (/^[0-9]+$/.test(grp)) gid = Number(grp);
    else {
      const g = groups.find((x) => x.name === grp);
      if (!g) throw badValue(flag, value!, `names a group the root's /etc/group does not have (${grp})`);
      gid = g.gid;
    }
    if (gid > MAX_ID) throw badValue(flag, value!, `wants a gid up to ${MAX_ID}`);
  }
  const member = entry && grp === undefined ? groups.filter((g) => g.members.includes(entry!.name)).map((g) => g.gid) : [];
  return { uid, gid, groups: [...new Set([gid, ...member])], home: entry?.home || (uid === 0 ? '/root' : '/') };
}
