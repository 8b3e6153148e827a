// The runner's modules, loaded when a command that controls containers runs, not with the CLI (issue 13).
export const loadContainers = () => import('../../runner/containers.js');
export const loadControl = () => import('../../runner/control.js');
export const loadTeardown = () => import('../../runner/teardown.js');
export const loadUsage = () => import('../../runner/cgroup/cgroup-usage.js');
export const loadNames = () => import('../../runner/names.js');
