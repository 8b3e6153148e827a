// For tests only: TSPROC_TEST_KILL_AT=POINT makes `tsproc run` send itself SIGKILL at that point of its
// set-up, as a `kill -9` from outside would, and TSPROC_TEST_STOP_AT=POINT SIGSTOP, as a slow set-up
// would hold it there; so that each point can be tried deterministically (test/integration/
// run-leftovers.test.ts). Neither can do what a kill from outside cannot; unset, they do nothing.
import { existsSync, writeFileSync } from 'node:fs';

export type TestPoint = 'record' | 'name' | 'root' | 'state' | 'cgroup' | 'config' | 'helper';

/** In the order `run` passes them (docs/runner.md, "The steps"). */
export const TEST_POINTS: readonly TestPoint[] = ['record', 'name', 'root', 'state', 'cgroup', 'config', 'helper'];

export function testPoint(point: TestPoint): void {
  if (process.env.TSPROC_TEST_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
  if (process.env.TSPROC_TEST_STOP_AT === point) process.kill(process.pid, 'SIGSTOP');
}

/**
 * TSPROC_TEST_WAIT_AT=POINT and TSPROC_TEST_GATE=FILE: at that point the process writes its pid to FILE.pid
 * and waits until FILE exists (the test opens the gate), as a slow disk or network would hold it there; an
 * abort of `signal` ends the wait at once. Used by test/integration/image-import.test.ts at 'decompress'.
 */
export async function testGate(point: 'decompress', signal?: AbortSignal): Promise<void> {
  const gate = process.env.TSPROC_TEST_GATE;
  if (process.env.TSPROC_TEST_WAIT_AT !== point || !gate) return;
  writeFileSync(`${gate}.pid`, `${process.pid}\n`);
  await new Promise<void>((resolve) => {
    const done = () => {
      clearInterval(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setInterval(() => existsSync(gate) && done(), 20);
    signal?.addEventListener('abort', done, { once: true });
  });
}
