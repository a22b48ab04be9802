#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qemu_startup.py: how long an unmodified QEMU takes from exec until QMP's
query-pci lists its vfio-pci device, in the tests/vm guest.

  qemu_startup.py LABEL BDF MEM_MIB [--preload LIB] [--qemu QEMU]

Starts `QEMU -accel tcg -machine q35 -nodefaults -nographic -S -m MEM_MIB
-device vfio-pci,host=BDF -qmp unix:...` (with LD_PRELOAD=LIB for QEMU only,
when given), connects to QMP, sends qmp_capabilities and query-pci until the
device (edu, 1234:11e8) is listed, then quits. QEMU answers QMP only after
machine init, which includes the vfio-pci realize and the MAP_DMA (pinning)
of all guest RAM. Prints one line:
  startup LABEL SECONDS            (exec -> query-pci lists the device)
or `startup LABEL fail REASON`, exit status 1."""
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

EDU = (0x1234, 0x11E8)


def main():
    args = sys.argv[1:]
    preload = None
    qemu_bin = "qemu-system-x86_64"
    while "--preload" in args or "--qemu" in args:
        for opt in ("--preload", "--qemu"):
            if opt in args:
                i = args.index(opt)
                val = args[i + 1]
                del args[i:i + 2]
                if opt == "--preload":
                    preload = val
                else:
                    qemu_bin = val
    if len(args) != 3:
        sys.exit(__doc__)
    label, bdf, mem = args
    tmp = tempfile.mkdtemp(prefix="qstart-")
    sock_path = os.path.join(tmp, "qmp.sock")
    argv = [qemu_bin, "-accel", "tcg", "-machine", "q35", "-nodefaults", "-nographic", "-S",
            "-m", mem, "-device", "vfio-pci,host=%s,id=hv" % bdf,
            "-qmp", "unix:%s,server=on,wait=off" % sock_path]
    env = dict(os.environ)
    if preload:
        env["LD_PRELOAD"] = preload
    errf = open(os.path.join(tmp, "qemu.err"), "w+")

    def fail(reason):
        errf.seek(0)
        tail = errf.read()[-400:].replace("\n", " | ")
        print("startup %s fail %s %s" % (label, reason, tail), flush=True)
        sys.exit(1)

    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf, env=env)
    try:
        sock = None
        while sock is None:
            if proc.poll() is not None:
                fail("qemu exited rc=%d" % proc.returncode)
            if time.monotonic() - t0 > 300:
                fail("no QMP socket after 300 s")
            try:
                c = socket.socket(socket.AF_UNIX)
                c.connect(sock_path)
                sock = c
            except OSError:
                time.sleep(0.01)
        buf = b""

        def reply():
            nonlocal buf
            while True:
                while b"\n" not in buf:
                    r, _, _ = select.select([sock], [], [], 300)
                    if not r:
                        fail("QMP timeout")
                    d = sock.recv(65536)
                    if not d:
                        fail("QMP closed")
                    buf += d
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                if "event" not in msg:
                    return msg

        def cmd(name):
            sock.sendall((json.dumps({"execute": name}) + "\n").encode())
            r = reply()
            if "error" in r:
                fail("%s: %s" % (name, r["error"]))
            return r["return"]

        reply()  # greeting
        cmd("qmp_capabilities")
        while True:
            found = any((d["id"]["vendor"], d["id"]["device"]) == EDU
                        for bus in cmd("query-pci") for d in bus["devices"])
            if found:
                break
            if time.monotonic() - t0 > 300:
                fail("device not listed after 300 s")
            time.sleep(0.01)
        ready = time.monotonic() - t0
        sock.sendall(b'{"execute": "quit"}\n')
        proc.wait(timeout=60)
        print("startup %s %.3f" % (label, ready), flush=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)


if __name__ == "__main__":
    main()
