# Readers of tsproc's files, every kind at once for a while: read(2), pread at offsets, sendfile,
# splice into a pipe, mmap and busybox cat. Each read is checked against the reader's own first
# read(2): its own figures (MemTotal, the CPUs, cpu/online), whole (the same lines, each ending in a
# newline). Prints one JSON line: per kind and file, reads, foreign, cut, refused, samples of bad ones.
#
#   python3 readers.py PREFIX SECONDS KIND[,KIND...]
#
# PREFIX is where proc/ and sys/ are: "/" in a container that binds the views, the mountpoint on
# the host. A kind that the kernel refuses (sendfile, splice or mmap answered with an error, as
# busybox cat falls back to read(2)) counts as refused; a hang is seen by the caller, who waits.
import errno
import json
import mmap
import os
import subprocess
import sys
import tempfile
import threading
import time

PREFIX, SECONDS, KINDS = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(',')
FILES = ['proc/meminfo', 'proc/stat', 'sys/devices/system/cpu/online']


def path(f):
    return os.path.join(PREFIX, f)


def read_all(fd):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            return b''.join(chunks)
        chunks.append(b)


def by_read(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        return read_all(fd)
    finally:
        os.close(fd)


def by_pread(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        out, off, step = [], 0, 97
        while True:
            b = os.pread(fd, step, off)
            if not b:
                return b''.join(out)
            out.append(b)
            off += len(b)
            step = 97 if step == 211 else 211
    finally:
        os.close(fd)


class Refused(Exception):
    pass


def by_sendfile(p):
    fd = os.open(p, os.O_RDONLY)
    out = tempfile.TemporaryFile()
    try:
        while True:
            try:
                n = os.sendfile(out.fileno(), fd, None, 1 << 20)
            except OSError as e:
                raise Refused(errno.errorcode.get(e.errno, str(e.errno)))
            if n == 0:
                break
        out.seek(0)
        return out.read()
    finally:
        out.close()
        os.close(fd)


def by_splice(p):
    fd = os.open(p, os.O_RDONLY)
    r, w = os.pipe()
    try:
        out = []
        while True:
            try:
                n = os.splice(fd, w, 65536)
            except OSError as e:
                raise Refused(errno.errorcode.get(e.errno, str(e.errno)))
            if n == 0:
                return b''.join(out)
            while n > 0:
                b = os.read(r, n)
                out.append(b)
                n -= len(b)
    finally:
        for x in (fd, r, w):
            os.close(x)


def by_mmap(p):
    # in a child: touching a page the kernel cannot fill is SIGBUS, which must not end the reader
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            fd = os.open(p, os.O_RDONLY)
            size = os.fstat(fd).st_size
            m = mmap.mmap(fd, max(size, 1), mmap.MAP_PRIVATE, mmap.PROT_READ)
            data = m[:size]
            os.write(w, data)
            os._exit(0)
        except BaseException:
            os._exit(3)
    os.close(w)
    data = read_all(r)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise Refused('signal %d' % os.WTERMSIG(status) if os.WIFSIGNALED(status) else 'exit %d' % os.WEXITSTATUS(status))
    return data


def by_busybox(p):
    with tempfile.TemporaryFile() as out:
        subprocess.run(['busybox', 'cat', p], stdout=out, check=True)
        out.seek(0)
        return out.read()


READERS = {'read': by_read, 'pread': by_pread, 'sendfile': by_sendfile, 'splice': by_splice, 'mmap': by_mmap, 'busybox': by_busybox}


def shape(f, text):
    """What must not change from one read to the next: own figures, and every line."""
    lines = text.split('\n')
    keys = [l.split()[0] if l.strip() else '' for l in lines]
    own = None
    if f == 'proc/meminfo':
        own = lines[0]
    elif f == 'proc/stat':
        own = [k for k in keys if k.startswith('cpu')]
    else:
        own = text
    return own, keys


def describe(data):
    """A bad read for the report: its length, where its NULs are, and both ends."""
    nuls = [i for i, b in enumerate(data) if b == 0]
    where = 'no NUL' if not nuls else 'NULs at %d..%d (%d of them)' % (nuls[0], nuls[-1], len(nuls))
    return '%d bytes, %s: %r...%r' % (len(data), where, data[:40], data[-40:])


def verdict(f, data, ref):
    """'ok', 'foreign' (another reader's figures) or 'cut' (not whole)."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return 'cut'
    if not text.endswith('\n') or '\0' in text:
        return 'cut'
    own, keys = shape(f, text)
    if own != ref[0]:
        # a whole file with other figures is another reader's; anything else is cut
        return 'foreign' if keys == ref[1] or f != 'proc/meminfo' else 'cut'
    return 'ok' if keys == ref[1] else 'cut'


refs = {f: shape(f, by_read(path(f)).decode()) for f in FILES}
results = {}
lock = threading.Lock()


def loop(kind):
    end = time.time() + SECONDS
    fn = READERS[kind]
    while time.time() < end:
        for f in FILES:
            key = '%s %s' % (kind, f)
            try:
                data = fn(path(f))
                v = verdict(f, data, refs[f])
                sample = None if v == 'ok' else describe(data)
            except Refused as e:
                v, sample = 'refused', str(e)
            except Exception as e:  # noqa: BLE001 - any other failure is a failed read
                v, sample = 'error', repr(e)
            with lock:
                r = results.setdefault(key, {'reads': 0, 'ok': 0, 'foreign': 0, 'cut': 0, 'refused': 0, 'error': 0, 'samples': []})
                r['reads'] += 1
                r[v] += 1
                if v != 'ok' and len(r['samples']) < 3:
                    r['samples'].append(sample or v)


threads = [threading.Thread(target=loop, args=(k,)) for k in KINDS]
for th in threads:
    th.start()
for th in threads:
    th.join()
print(json.dumps({'refs': {f: refs[f][0] for f in FILES}, 'results': results}))
