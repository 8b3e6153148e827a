// The helper's step names: native/steps.h's tables and runner/helper-events.ts's words are one list each
// (the set-up steps of `failed` events, the cleanup steps of `cleanup-failed` events).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CLEANUP_STEP_NAMES, cleanupWarning, failureError, STEP_NAMES } from '../../runner/helper-events.js';

const header = readFileSync(fileURLToPath(new URL('../../../native/steps.h', import.meta.url)), 'utf8');
/** Every X(ID, "name") of the macro TSPROC_<table>(X), in order. */
function table(name: string): string[] {
  const body = header.split(/^#define /m).find((d) => d.startsWith(`${name}(X)`)) ?? '';
  return [...body.matchAll(/\bX\(\s*[A-Z0-9_]+\s*,\s*"([^"]+)"\s*\)/g)].map((m) => m[1]!);
}
const cSteps = table('TSPROC_STEPS');
const cCleanup = table('TSPROC_CLEANUP_STEPS');

t.test('native/steps.h and the TypeScript words name the same steps, in the same order', async (t) => {
  t.ok(cSteps.length > 30, `the table was read (${cSteps.length} steps)`);
  t.equal(new Set(cSteps).size, cSteps.length, 'no step twice in C');
  t.same(STEP_NAMES, cSteps, 'a step added on one side only fails here');
});

t.test('native/steps.h and the TypeScript words name the same cleanup steps, in the same order', async (t) => {
  t.ok(cCleanup.length >= 5, `the table was read (${cCleanup.length} steps)`);
  t.same(CLEANUP_STEP_NAMES, cCleanup, 'a cleanup step added on one side only fails here');
  for (const step of cCleanup) {
    const m = cleanupWarning({ kind: 'cleanup-failed', step, errno: constants.errno.EBUSY, path: '/x' });
    t.notMatch(m, /step|undefined/, `${step}: ${m}`);
    t.match(m, / \/x: EBUSY \(busy\)$/, `${step}: names the path and says the errno in words`);
  }
  t.equal(
    cleanupWarning({ kind: 'cleanup-failed', step: 'rmdir', errno: constants.errno.EBUSY, path: '/sys/fs/cgroup/pids/tsproc/x' }),
    "cleaning up after the container: cannot remove the container's cgroup /sys/fs/cgroup/pids/tsproc/x: EBUSY (busy)",
  );
});

t.test('every step reads as a sentence of its own, never "step X failed"', async (t) => {
  const ctx = { describe: () => undefined, command: 'frob', cwd: '/work' };
  for (const step of cSteps) {
    const m = failureError({ kind: 'failed', step, errno: constants.errno.EPERM, line: 0 }, ctx).message;
    t.notMatch(m, /step|undefined/, `${step}: ${m}`);
    t.match(m, /: EPERM \(operation not permitted\)$/, `${step}: says the errno in words`);
  }
  t.equal(
    failureError({ kind: 'failed', step: 'setns', errno: constants.errno.EPERM, line: 0 }, ctx).message,
    "cannot join the container's namespaces (setns): EPERM (operation not permitted)",
    'the step the list once lacked',
  );
});

t.test('a config line the helper refuses is named, with what it does', async (t) => {
  const ctx = { describe: (n: number) => (n === 20 ? 'mount proc on /proc' : undefined), command: 'frob', cwd: '/work' };
  t.equal(
    failureError({ kind: 'failed', step: 'config', errno: constants.errno.EINVAL, line: 20 }, ctx).message,
    'the helper cannot read its config: line 20 (mount proc on /proc) is malformed',
  );
  t.equal(
    failureError({ kind: 'failed', step: 'config', errno: constants.errno.EINVAL, line: 2 }, ctx).message,
    'the helper cannot read its config: line 2 is malformed',
  );
  t.match(
    failureError({ kind: 'failed', step: 'config', errno: constants.errno.ENOMEM, line: 0 }, ctx).message,
    /^the helper cannot read its config: ENOMEM \(/,
    'no line: the errno',
  );
});
