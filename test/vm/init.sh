#!/bin/sh
# The cgroup-v2 test VM's /init: a pure cgroup2 hierarchy, the host's / over 9p under a tmpfs overlay,
# then the harness's job with its output on the second serial port and its exit status in the share.
#
# Stage 1 runs as PID 1 from the initramfs (busybox sh); stage 2 runs after switch_root, from the
# host's own /bin/sh. The harness passes on the kernel command line (the kernel hands `key=value`
# words it does not know to init as environment variables):
#   tsproc_share    the host directory shared writable as 9p tag `share`, mounted at the same path;
#                   it holds job.sh (what to run) and gets `status` (job.sh's exit status).
#   tsproc_project  the project directory, kept visible if it lies under /tmp.
# /tmp is a tmpfs of its own: overlayfs refuses an upper directory on an overlay, and the tests mount
# overlays under /tmp.
# Each step is announced on the console as "tsproc-vm: step: ..." so the harness can say where a
# guest stopped. Any failure powers the guest off at once (no shell, no hang).

step() { echo "tsproc-vm: step: $*"; }
fail() {
  echo "tsproc-vm: failed: $*"
  poweroff_now
}
poweroff_now() {
  sync
  echo o > /proc/sysrq-trigger
  while :; do :; done # until the power goes (a PID 1 that exits panics the kernel)
}

if [ "$1" != stage2 ]; then
  export PATH=/bin
  /bin/busybox mkdir -p /proc /sys /dev
  /bin/busybox mount -t proc proc /proc
  /bin/busybox --install -s /bin
  step mount sysfs and devtmpfs
  mount -t sysfs sysfs /sys || fail mount sysfs
  mount -t devtmpfs devtmpfs /dev || fail mount devtmpfs

  step load modules
  # modules.order, written by the harness, lists them in dependency order.
  while read -r m; do
    insmod "/modules/$m" || fail "insmod $m"
  done < /modules/modules.order

  step mount cgroup2 and enable controllers
  mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail mount cgroup2
  echo '+cpu +memory +cpuset +pids' > /sys/fs/cgroup/cgroup.subtree_control || fail enable controllers

  step mount the host root over 9p
  mkdir -p /host /upper /newroot
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose host0 /host || fail mount 9p host0
  mount -t tmpfs -o mode=0755 tmpfs /upper || fail mount tmpfs
  mkdir -p /upper/data /upper/work
  step overlay the host root with a tmpfs
  mount -t overlay -o lowerdir=/host,upperdir=/upper/data,workdir=/upper/work overlay /newroot || fail mount overlay
  for d in proc sys dev; do
    mount --rbind "/$d" "/newroot/$d" || fail "rbind /$d"
  done
  mount -t tmpfs -o mode=0755 tmpfs /newroot/run || fail mount /run
  step mount a tmpfs on /tmp
  project_in_tmp=
  case "$tsproc_project/" in /tmp/*) project_in_tmp=1 ;; esac
  if [ -n "$project_in_tmp" ]; then
    mkdir -p /project && mount --bind "/newroot$tsproc_project" /project || fail bind the project
  fi
  mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp || fail mount /tmp
  if [ -n "$project_in_tmp" ]; then
    mkdir -p "/newroot$tsproc_project" && mount --move /project "/newroot$tsproc_project" || fail move the project
  fi
  mkdir -p /newroot/dev/pts
  mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts || fail mount devpts

  step mount the share at "$tsproc_share"
  [ -n "$tsproc_share" ] || fail 'no tsproc_share= on the kernel command line'
  mkdir -p "/newroot$tsproc_share"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share "/newroot$tsproc_share" || fail mount 9p share

  step switch_root
  mkdir -p /newroot/run/tsproc-vm
  cp /init /newroot/run/tsproc-vm/init
  exec switch_root /newroot /bin/sh /run/tsproc-vm/init stage2
  fail switch_root
fi

# Stage 2: in the overlay, PID 1, the host's tools on PATH.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb
cd /
step run "$tsproc_share/job.sh"
stty -F /dev/ttyS1 raw -echo 115200 || fail 'stty /dev/ttyS1'
# The job's output goes through a pipe (tap then prints plain text, not a terminal's animation).
{
  sh "$tsproc_share/job.sh" 2>&1
  echo $? > "$tsproc_share/status"
} | cat > /dev/ttyS1
step done, status "$(cat "$tsproc_share/status" 2>/dev/null)"
poweroff_now
