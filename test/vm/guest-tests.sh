#!/bin/sh
# Inside the cgroup v2 VM, from the project directory: runs each compiled test file given as a plain
# `node` process, one after another. Each file's TAP goes to stdout between marker lines, from which
# the harness (test/vm/guest-output.ts) takes it for tap on the host to report on; its stderr goes to
# the console. Why not tap's runner in here: under emulation it takes two minutes to start and end,
# and it loads its process-tracking hooks into every Node process a test starts (some 10 s each).
# TAP_TIMEOUT (seconds, set by the harness) bounds each file. Exits 1 if any file exited non-zero.
status=0
for f in "$@"; do
  echo "tsproc-vm: begin $f"
  node --enable-source-maps "$f" 2>/dev/console
  code=$?
  printf '\ntsproc-vm: end %s %s\n' "$code" "$f" # on a line of its own even after a cut-off line
  [ "$code" -eq 0 ] || status=1
done
exit $status
