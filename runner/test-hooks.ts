// For tests only: TSPROC_TEST_KILL_AT=POINT makes `tsproc run` send itself SIGKILL at that point of its
// set-up, as a `kill -9` from outside would, and TSPROC_TEST_STOP_AT=POINT SIGSTOP, as a slow set-up
// would hold it there; so that each point can be tried deterministically (test/integration/
// run-leftovers.test.ts). Neither can do what a kill from outside cannot; unset, they do nothing.
export type TestPoint = 'record' | 'name' | 'root' | 'state' | 'cgroup' | 'config' | 'helper';

/** In the order `run` passes them (docs/runner.md, "The steps"). */
export const TEST_POINTS: readonly TestPoint[] = ['record', 'name', 'root', 'state', 'cgroup', 'config', 'helper'];

export function testPoint(point: TestPoint): void {
  if (process.env.TSPROC_TEST_KILL_AT === point) process.kill(process.pid, 'SIGKILL');
  if (process.env.TSPROC_TEST_STOP_AT === point) process.kill(process.pid, 'SIGSTOP');
}
