#!/usr/bin/env python3
"""measure.py OUT -- COMMAND...: runs COMMAND and writes "wall user sys maxrss_kib anon_kib" to OUT.

tests/bench/run's timer, in place of /usr/bin/time (whose %e/%U/%S have 10 ms resolution: runs of
(d) and (e) last 0.05 s). From the child's own rusage (os.wait4): user and system CPU time in
microseconds and peak RSS; wall time from a monotonic clock around fork and wait. While the child runs,
its /proc/PID/status is sampled every 2 ms for the peak RssAnon: peak RSS also counts the pages of
shared libraries a process has touched (libcrypto alone is ~4 MiB of it for every client here); RssAnon
is the memory the process itself costs (a peak shorter than 2 ms can be missed: a lower bound).
Run this script on the server's core and pin COMMAND to the client's (taskset inside COMMAND): the
sampling then costs the client nothing. Exit status: COMMAND's (128 + N when killed by signal N).
"""
import os
import subprocess
import sys
import time


def rss_anon(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    out, sep, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    if sep != "--" or not cmd:
        sys.exit("usage: measure.py OUT -- COMMAND...")
    start = time.perf_counter()
    child = subprocess.Popen(cmd)
    peak_anon = 0
    while True:
        pid, status, ru = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak_anon = max(peak_anon, rss_anon(child.pid))
        time.sleep(0.002)
    wall = time.perf_counter() - start
    with open(out, "w") as f:
        f.write(f"{wall:.6f} {ru.ru_utime:.6f} {ru.ru_stime:.6f} {ru.ru_maxrss} {peak_anon}\n")
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
