#!/usr/bin/env python3
"""peak_anon.py PID: the peak anonymous resident memory (RssAnon, KiB) of PID's child process.

tests/bench/run starts each client as `taskset ... /usr/bin/time ... CLIENT` in the background and this
script beside it (on the other core): it waits for /usr/bin/time's child to appear, samples its
/proc/PID/status every 2 ms until it exits, and prints the largest RssAnon seen. Peak RSS (%M of
/usr/bin/time) also counts the pages of shared libraries a process has touched (libcrypto alone is
~4 MiB of it for every client here); RssAnon is the memory the process itself costs. Sampling can miss a
peak shorter than 2 ms: the figure is a lower bound, good to ~1 % on runs that hold their connections.
"""
import os
import sys
import time


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def rss_anon(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    parent = int(sys.argv[1])
    child = None
    while child is None:
        kids = children(parent)
        if kids:
            child = kids[0]
        elif not os.path.exists(f"/proc/{parent}"):
            print(0)
            return
        else:
            time.sleep(0.0005)
    peak = 0
    while True:
        v = rss_anon(child)
        if v is None:
            break
        peak = max(peak, v)
        time.sleep(0.002)
    print(peak)


if __name__ == "__main__":
    main()
