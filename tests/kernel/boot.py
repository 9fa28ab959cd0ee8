#!/usr/bin/env python3
"""tests/kernel/run's host side: packs a staged root into an initramfs (cpio newc, gzip), boots it under
qemu-system-aarch64 -M virt (TCG), and answers the guest's "@@press N GAP_MS" lines with N QMP
system_powerdown commands GAP_MS apart (the virt board's PL061 line 3 is the power button). The guest's
console is copied to stdout. Exit status 0 when the guest printed "@@result pass", the program's
"@@exit 0" (a sanitizer's report at exit makes it non-zero), and qemu ended;
1 on "@@result fail", a guest that ended without a result, or the time limit (qemu is then killed).

    boot.py --kernel VMLINUZ --root STAGED_DIR --initrd OUT.cpio.gz [--timeout SECONDS]
"""
import argparse
import gzip
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time


def cpio_newc(root, out_path):
    """Writes every file, directory and symlink under root (owned by root) into a gzip'd newc archive."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            entries.append(os.path.join(dirpath, name))
    ino = 1
    with gzip.open(out_path, "wb", compresslevel=1) as out:
        def write(name, mode, data, nlink=1):
            nonlocal ino
            name_bytes = name.encode() + b"\0"
            header = "070701" + "".join("%08X" % v for v in (
                ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name_bytes), 0))
            ino += 1
            out.write(header.encode() + name_bytes)
            out.write(b"\0" * ((4 - (110 + len(name_bytes)) % 4) % 4))
            out.write(data)
            out.write(b"\0" * ((4 - len(data) % 4) % 4))

        for path in entries:
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                write(rel, st.st_mode, os.readlink(path).encode())
            elif stat.S_ISDIR(st.st_mode):
                write(rel, st.st_mode, b"", 2)
            else:
                with open(path, "rb") as f:
                    write(rel, st.st_mode, f.read())
        write("TRAILER!!!", 0, b"")


class Qmp:
    def __init__(self, path, deadline):
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise RuntimeError("QMP socket %s did not appear" % path)
                time.sleep(0.05)
        self.file = self.sock.makefile("rwb")
        self.read_reply()  # greeting
        self.command("qmp_capabilities")

    def read_reply(self):
        while True:
            line = self.file.readline()
            if not line:
                raise RuntimeError("QMP closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name):
        self.file.write(json.dumps({"execute": name}).encode() + b"\n")
        self.file.flush()
        reply = self.read_reply()
        if "return" not in reply:
            raise RuntimeError("QMP %s: %s" % (name, reply))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--timeout", type=float, default=150)
    args = ap.parse_args()

    start = time.monotonic()
    deadline = start + args.timeout
    cpio_newc(args.root, args.initrd)
    print("kernel test: initramfs %s, %.1f MiB" % (args.initrd, os.path.getsize(args.initrd) / 1048576.0), flush=True)

    with tempfile.TemporaryDirectory(prefix="edgeloop-kernel-") as tmp:
        qmp_path = os.path.join(tmp, "qmp.sock")
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "512", "-smp", "1",
               "-accel", "tcg", "-nic", "none", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
               "-kernel", args.kernel, "-initrd", args.initrd,
               "-append", "console=ttyAMA0 panic=-1 quiet loglevel=3 rdinit=/init",
               "-qmp", "unix:%s,server=on,wait=off" % qmp_path]
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        killer = threading.Timer(max(1.0, deadline - time.monotonic()), qemu.kill)
        killer.start()
        result = None
        exit_status = None
        qmp = None
        try:
            for raw in qemu.stdout:
                line = raw.decode(errors="replace").rstrip("\r\n")
                print("  | " + line, flush=True)
                text = line.strip()
                if text.startswith("@@booted"):
                    print("kernel test: booted in %.1f s" % (time.monotonic() - start), flush=True)
                elif text.startswith("@@press"):
                    _, n, gap = text.split()[:3]
                    if qmp is None:
                        qmp = Qmp(qmp_path, deadline)
                    for i in range(int(n)):
                        if i:
                            time.sleep(int(gap) / 1000.0)
                        qmp.command("system_powerdown")
                elif text.startswith("@@result"):
                    result = text.split()[1]
                elif text.startswith("@@exit"):
                    exit_status = text.split()[1]
        except Exception as e:  # a QMP failure: end the run
            print("kernel test: error: %s" % e, flush=True)
            qemu.kill()
        qemu.wait()
        killer.cancel()
        elapsed = time.monotonic() - start
        if time.monotonic() >= deadline:
            print("kernel test: FAIL: time limit of %.0f s reached (qemu killed)" % args.timeout)
            return 1
        if result == "pass" and exit_status != "0":
            print("kernel test: FAIL: the guest program exited with %s after its checks passed" % exit_status)
            return 1
        if result != "pass":
            print("kernel test: FAIL: %s after %.1f s (qemu exit %d)" %
                  ("the guest reported failures" if result else "the guest ended without a result",
                   elapsed, qemu.returncode))
            return 1
        print("kernel test: PASS in %.1f s" % elapsed)
        return 0


if __name__ == "__main__":
    sys.exit(main())
