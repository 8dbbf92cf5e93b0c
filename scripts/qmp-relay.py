#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Relays QEMU monitor commands from the test guest to QEMU's QMP socket.

The guest cannot reach the monitor itself: it writes one QMP command (a JSON object) to
RUN/qmp.in through the shared run directory and waits for RUN/qmp.out, which holds QEMU's
reply (the "return" or "error" object, as one JSON line). Asynchronous events are appended
to RUN/qmp-events.log. Runs until QEMU closes the socket.

Usage: qmp-relay.py RUN_DIR
"""

import json
import os
import select
import socket
import sys
import time


class Qmp:
    def __init__(self, path, events):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""
        self.events = events

    def line(self, timeout=None):
        """The next line from QEMU; None on timeout. Raises EOFError when QEMU is gone."""
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def command(self, cmd):
        """Sends one command; returns its reply, logging the events before it."""
        self.sock.sendall(cmd.strip().encode() + b"\n")
        while True:
            line = self.line()
            if "event" in json.loads(line):
                self.events.write(line + "\n")
                continue
            return line


def main():
    run = sys.argv[1]
    req = os.path.join(run, "qmp.in")
    out = os.path.join(run, "qmp.out")
    events = open(os.path.join(run, "qmp-events.log"), "a", buffering=1)
    qmp = None
    for _ in range(300):
        try:
            qmp = Qmp(os.path.join(run, "qmp.sock"), events)
            break
        except OSError:
            time.sleep(0.1)
    if qmp is None:
        return 1
    try:
        qmp.line()  # the greeting
        qmp.command(json.dumps({"execute": "qmp_capabilities"}))
        while True:
            line = qmp.line(0.2)
            if line is not None:
                events.write(line + "\n")
                continue
            if not os.path.exists(req):
                continue
            with open(req) as f:
                cmd = f.read()
            os.unlink(req)
            answer = qmp.command(cmd)
            with open(out + ".tmp", "w") as f:
                f.write(answer + "\n")
            os.rename(out + ".tmp", out)
    except (EOFError, OSError):
        return 0


if __name__ == "__main__":
    sys.exit(main())
