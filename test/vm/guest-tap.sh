#!/bin/sh
# Inside the cgroup v2 VM, from the project directory: tap reports on the compiled test files given,
# each run as a plain `node` process whose TAP reaches tap through a FIFO.
#
# Why not `tap FILES`: tap's runner loads its process-tracking hooks into every Node process a test
# starts (daemons, readers), which costs some 10 s per process under QEMU's emulation. Here each
# test writes TAP into a FIFO and tap reads the FIFOs as raw TAP streams, one at a time in order;
# opening a FIFO for writing blocks until tap opens it for reading, so each test file starts only
# when tap comes to it and the files run one after another, as `npm test` runs them.
# TAP_TIMEOUT (seconds, set by the harness) bounds each file; tap prints the usual summary line.
set -u
dir=.tap/vm # in the guest's tmpfs overlay: nothing reaches the host's checkout
rm -rf "$dir"
fifos=
for f in "$@"; do
  fifo="$dir/$f.tap"
  mkdir -p "$(dirname "$fifo")"
  mkfifo "$fifo" || exit 1
  node --enable-source-maps "$f" > "$fifo" &
  fifos="$fifos $fifo"
done
# shellcheck disable=SC2086 # one word per FIFO
exec node node_modules/.bin/tap $fifos
