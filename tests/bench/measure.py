#!/usr/bin/env python3
"""measure.py OUT [--pipe-stdin FILE] -- COMMAND...: runs COMMAND and writes "wall user sys maxrss_kib
anon_kib" to OUT. With --pipe-stdin, COMMAND's stdin is a pipe that a thread of this script fills with
FILE's bytes and then closes (a producer on a pipe, as `producer | multi_fetch -K -`).

tests/bench/run's timer, in place of /usr/bin/time (whose %e/%U/%S have 10 ms resolution: runs of
(d) and (e) last 0.05 s). From the child's own rusage (os.wait4): user and system CPU time in
microseconds; wall time from a monotonic clock around fork and wait. While the child runs, its
/proc/PID/status is sampled every 2 ms (every 0.5 ms in its first 0.25 s): peak RSS is its VmHWM (the high-water mark since exec; rusage's
ru_maxrss cannot be used here, it counts this Python process's own pages, inherited at fork), and peak
anonymous memory its RssAnon: RSS also counts the pages of shared libraries a process has touched
(libcrypto alone is ~4 MiB of it for every client here); RssAnon is the memory the process itself costs
(a peak shorter than 2 ms can be missed: a lower bound).
Run this script on the server's core and pin COMMAND to the client's (taskset inside COMMAND): the
sampling then costs the client nothing. Exit status: COMMAND's (128 + N when killed by signal N).
"""
import os
import shutil
import subprocess
import sys
import threading
import time


def sample(pid):
    """(name, VmHWM KiB, RssAnon KiB) of pid, or None when it is gone."""
    name, hwm, anon = "", 0, 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Name:"):
                    name = line.split(None, 1)[1].strip()
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return name, hwm, anon


def main():
    args = sys.argv[1:]
    pipe_from = None
    if len(args) > 2 and args[1] == "--pipe-stdin":
        pipe_from = args[2]
        del args[1:3]
    out, sep, cmd = args[0], args[1], args[2:]
    if sep != "--" or not cmd:
        sys.exit("usage: measure.py OUT [--pipe-stdin FILE] -- COMMAND...")
    own_name = sample(os.getpid())[0]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE if pipe_from else None)
    if pipe_from:
        def feed():
            try:
                with open(pipe_from, "rb") as f:
                    shutil.copyfileobj(f, child.stdin, 1 << 16)
            except BrokenPipeError:
                pass
            finally:
                try:
                    child.stdin.close()
                except BrokenPipeError:
                    pass
        threading.Thread(target=feed, daemon=True).start()
    peak_rss = peak_anon = 0
    while True:
        pid, status, ru = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        s = sample(child.pid)
        if s and s[0] != own_name:  # not before exec: the forked child still shares this process's pages
            peak_rss = max(peak_rss, s[1])
            peak_anon = max(peak_anon, s[2])
        # Every 0.5 ms for the first 0.25 s: a one-shot client ((i), (k)) lives ~30 ms and its peak
        # can come in its last milliseconds; every 2 ms after that.
        time.sleep(0.0005 if time.perf_counter() - start < 0.25 else 0.002)
    wall = time.perf_counter() - start
    with open(out, "w") as f:
        f.write(f"{wall:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f} {peak_rss} {peak_anon}\n")
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
