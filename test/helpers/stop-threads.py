# Stop some threads of a process, and only those, until this tracer is killed: PTRACE_SEIZE then
# PTRACE_INTERRUPT on each thread id. A FUSE daemon whose workers are stopped this way gives no
# answer, as one whose workers are stuck in the kernel; the main thread goes on. Prints "stopped".
#
#   python3 stop-threads.py TID...
import ctypes
import os
import signal
import sys

PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long

for tid in map(int, sys.argv[1:]):
    for request in (PTRACE_SEIZE, PTRACE_INTERRUPT):
        if libc.ptrace(request, tid, None, None) != 0:
            sys.exit('ptrace %#x of %d: %s' % (request, tid, os.strerror(ctypes.get_errno())))
    os.waitpid(tid, WALL)
print('stopped', flush=True)
signal.pause()
