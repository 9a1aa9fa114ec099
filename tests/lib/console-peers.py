#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connects to the admin console the ways a local user could to pass for
someone else, and prints what each connection got, one line each:

    NAME admitted|refused|closed|skipped [DETAIL]

- source-port: bound to the console's own port number on 127.0.0.4, so
  that the ports of the connection are those of the daemon's socket
  reversed;
- mapped, mapped-source-port: an IPv6 socket to ::ffff:127.0.0.1 (the
  kernel lists it in tcp6, the console's socket in tcp), plainly and with
  the same source port trick;
- ipv6: to ::1 (with --ipv6, when the console listens there);
- many-N: many connections at once, plain and tricked, all open before
  any is read.

With --user UID it first becomes that user (it must start as root):
setgroups([]), setgid, setuid, as a login would. A connection the
console admits is closed with 'q'. Lines are printed in the order of the
connections."""

import argparse
import os
import select
import socket
import sys
import time

TIMEOUT = 10.0


def drop_to(uid):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        sys.exit("could not become uid %d" % uid)


def connect(family, target, source=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    if source is not None:
        s.bind(source)
    s.settimeout(TIMEOUT)
    s.connect(target)
    return s


def verdict(s):
    """Reads up to the welcome line (admitted, then quits) or the end of
    the connection (refused when told so)."""
    data = b""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([s], [], [], deadline - time.monotonic())
        if not ready:
            break
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
        if b"(press 'h' for Help)" in data:
            s.sendall(b"q")
            while s.recv(4096):
                pass
            return "admitted"
    if b"Permission denied" in data:
        return "refused"
    return "closed %r" % data[:80]


def plan(port, ipv6, many):
    """(name, family, target, source) of every connection to make."""
    v4 = ("127.0.0.1", port)
    mapped = ("::ffff:127.0.0.1", port)
    cases = [
        ("plain", socket.AF_INET, v4, None),
        ("source-port", socket.AF_INET, v4, ("127.0.0.4", port)),
        ("mapped", socket.AF_INET6, mapped, None),
        ("mapped-source-port", socket.AF_INET6, mapped, ("::ffff:127.0.0.5", port)),
    ]
    if ipv6:
        cases.append(("ipv6", socket.AF_INET6, ("::1", port), None))
    for i in range(many):
        # Every other one from the console's port on its own address.
        source = ("127.0.1.%d" % (i + 1), port) if i % 2 else None
        cases.append(("many-%d" % i, socket.AF_INET, v4, source))
    return cases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", type=int)
    parser.add_argument("--ipv6", action="store_true")
    parser.add_argument("--many", type=int, default=16)
    args = parser.parse_args()

    if args.user is not None:
        drop_to(args.user)
    opened = []
    for name, family, target, source in plan(args.port, args.ipv6, args.many):
        try:
            opened.append((name, connect(family, target, source)))
        except OSError as e:
            # A source the console's listener already holds (it listens
            # on every address), or no IPv6.
            print("%s skipped %s" % (name, e), flush=True)
    for name, s in opened:
        try:
            print("%s %s" % (name, verdict(s)), flush=True)
        except OSError as e:
            print("%s closed %s" % (name, e), flush=True)
        finally:
            s.close()


if __name__ == "__main__":
    main()
