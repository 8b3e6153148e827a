# Runs a command on a pseudo-terminal of its own (its controlling terminal, as a shell's job has it),
# sized ROWSxCOLS; once the command has printed READY, resizes the terminal to NEWROWSxNEWCOLS (the
# kernel sends SIGWINCH to the terminal's foreground process group, as a terminal emulator's resize
# does). Prints everything the command wrote, then "exit N". Gives up after LIMIT seconds (the
# command is killed and "exit timeout" printed), so that a test fails rather than hangs.
#   python3 pty-resize.py ROWS COLS NEWROWS NEWCOLS READY LIMIT -- COMMAND...
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time


def size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


def main():
    rows, cols, new_rows, new_cols = (int(a) for a in sys.argv[1:5])
    ready = sys.argv[5].encode()
    limit = float(sys.argv[6])
    command = sys.argv[sys.argv.index('--') + 1:]
    master, slave = os.openpty()
    size(master, rows, cols)

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_terminal)
    os.close(slave)
    out = b''
    resized = False
    end = time.monotonic() + limit
    while True:
        left = end - time.monotonic()
        if left <= 0:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            sys.stdout.write(out.decode('utf8', 'replace') + 'exit timeout\n')
            return
        readable, _, _ = select.select([master], [], [], min(left, 0.5))
        if readable:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: no process holds the terminal any more
                data = b''
            if not data:
                break
            out += data
        if not resized and ready in out:
            size(master, new_rows, new_cols)
            resized = True
    sys.stdout.write(out.decode('utf8', 'replace') + 'exit %d\n' % child.wait())


main()
