#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""ws-user.py: a WebSocket *user* of the gateway, written with
python3-websockets (10.x asyncio API), for tests/test-interop.c.

Usage: ws-user.py URI [SUBPROTOCOL...]

Connects offering the subprotocols (if any) and prints
`PROTOCOL <chosen or None>`, then `TEXT <hex>` / `BINARY <hex>` for every
message (text: one byte per code point, latin-1). After the CONNECT status
line (or 2 s) it types "k", waits for a message holding "k" (the echo),
prints `ECHO OK`, closes and exits 0. Any failure or timeout (10 s in all)
exits non-zero with a message on stderr.
"""

import asyncio
import sys

import websockets

STATUS_CONNECT = b"\x1f\x40\x41CONNECT\x18\x0a"
WAIT_STATUS = 2.0
OVERALL = 10.0


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def report(message):
    """Prints a message, returns its bytes."""
    if isinstance(message, str):
        data = message.encode("latin-1")   # above U+00FF: an error
        emit("TEXT " + data.hex())
    else:
        data = bytes(message)
        emit("BINARY " + data.hex())
    return data


async def session(uri, protocols):
    loop = asyncio.get_running_loop()
    async with websockets.connect(uri, subprotocols=protocols or None,
                                  open_timeout=5, close_timeout=2) as ws:
        emit(f"PROTOCOL {ws.subprotocol}")
        seen = bytearray()
        deadline = loop.time() + WAIT_STATUS
        while STATUS_CONNECT not in seen:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                message = await asyncio.wait_for(ws.recv(), remaining)
            except asyncio.TimeoutError:
                break
            seen += report(message)
        await ws.send("k")
        while b"k" not in report(await ws.recv()):
            pass
        emit("ECHO OK")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: ws-user.py URI [SUBPROTOCOL...]")
    try:
        asyncio.run(asyncio.wait_for(session(sys.argv[1], sys.argv[2:]),
                                     OVERALL))
    except asyncio.TimeoutError:
        sys.exit(f"ws-user: timed out after {OVERALL:.0f} s")
    except Exception as e:      # connection refused, closed early, ...
        sys.exit(f"ws-user: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
