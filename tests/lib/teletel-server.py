#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""teletel-server.py: a stand-in for a Teletel videotex server, written
with python3-websockets (10.x asyncio API), for tests/test-interop.c.

It listens on 127.0.0.1, port chosen by the kernel (or the one of
`--port N`), and prints `PORT <n>` once listening. SIGTERM stops it
cleanly: it closes every connection with a close frame, prints `STOPPED`
and exits 0.

For tests/test-teletel.c, which stops it and has the gateway start it
again from its command line: `--quiet` prints nothing on standard output
(a restarted copy writes to the test's own), `--die-with-parent` makes
it get SIGKILL when the process that started it dies (a copy the gateway
restarted must not outlive an aborted test).

Paths (one port for all):

- "/command": the gateway's command channel. Every message received is
  printed as `CMD <text>` (binary ones decoded as latin-1).

- "/target": a redirect target, negotiating the subprotocols binary and
  tty (the only path that selects one). It prints
  `TARGET-PROTOCOL <subprotocol or None>`, sends one text frame
  "PYTHON TARGET", then for every frame received prints
  `TARGET <text|binary> <hex>` and echoes it back as it came; prints
  `TARGET-CLOSED` when the connection ends.

- any other path ("/"): the default server. For every connection it
  sends a page as one text frame (the argument of --page-hex, else
  0C "PYTHON TELETEL" 1B 39 7B), then for every frame received prints
  `FRAME <text|binary> <hex of the bytes>` (text: one byte per code
  point, latin-1) and echoes the bytes back as a text frame. A text frame
  with a code point above U+00FF is printed as `BAD <hex of its UTF-8>`
  and not echoed. When the bytes received (across frames) hold the
  gateway's identification, 01 7F 7F 7F 04 then
  `PID=<id>,IP=<ip>,PORT=<port>,Access=<Telnet|WS>` and LF, it prints
  `IDENT <that line without LF>` (`BAD-IDENT <hex>` for another line
  after those five bytes).

Commands on stdin, one a line (read without blocking the event loop):

- `ENQROM`: sends 1B 39 7B as a text frame on the latest default-server
  connection.
- `SEND <text>`: sends <text> as one text frame on the latest command
  connection.

A command that cannot be carried out prints `ERROR <why>`.
"""

import argparse
import asyncio
import os
import re
import signal
import sys
from urllib.parse import urlsplit

import websockets
import websockets.server

PAGE = "\x0cPYTHON TELETEL\x1b\x39\x7b"
TARGET_PAGE = "PYTHON TARGET"
TARGET_SUBPROTOCOLS = ["binary", "tty"]
ENQROM = "\x1b\x39\x7b"
IDENT_START = b"\x01\x7f\x7f\x7f\x04"
IDENT_LINE = re.compile(rb"PID=\d+,IP=[^,\n]*,PORT=\d+,Access=(?:Telnet|WS)")
IDENT_MAX = 256   # bytes of a line after IDENT_START before giving up


class State:
    page = PAGE
    quiet = False
    default_ws = None   # the latest default-server connection
    command_ws = None   # the latest command connection


def emit(line):
    if State.quiet:
        return
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def die_with_parent():
    """prctl(PR_SET_PDEATHSIG, SIGKILL)."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")


def path_of(ws):
    return urlsplit(ws.path).path


def message_bytes(message):
    """(kind, bytes) of a frame, or (kind, None) for a text frame that is
    not latin-1."""
    if isinstance(message, str):
        try:
            return "text", message.encode("latin-1")
        except UnicodeEncodeError:
            return "text", None
    return "binary", bytes(message)


class IdentScanner:
    """Finds the identification in a byte stream split anyhow."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf.extend(data)
        while True:
            start = self.buf.find(IDENT_START)
            if start < 0:
                keep = len(IDENT_START) - 1
                if len(self.buf) > keep:
                    del self.buf[:len(self.buf) - keep]
                return
            del self.buf[:start]
            end = self.buf.find(b"\n", len(IDENT_START))
            if end < 0:
                if len(self.buf) > len(IDENT_START) + IDENT_MAX:
                    emit("BAD-IDENT " + bytes(self.buf).hex())
                    del self.buf[:len(IDENT_START)]
                    continue
                return
            line = bytes(self.buf[len(IDENT_START):end])
            del self.buf[:end + 1]
            if IDENT_LINE.fullmatch(line):
                emit("IDENT " + line.decode("latin-1"))
            else:
                emit("BAD-IDENT " + line.hex())


class Protocol(websockets.server.WebSocketServerProtocol):
    """Negotiates a subprotocol on /target only: elsewhere an offer is
    accepted without choosing one, as before."""

    def process_subprotocol(self, headers, available_subprotocols):
        if path_of(self) != "/target":
            return None
        return super().process_subprotocol(headers, available_subprotocols)


async def default_handler(ws):
    State.default_ws = ws
    scanner = IdentScanner()
    try:
        await ws.send(State.page)
        async for message in ws:
            kind, data = message_bytes(message)
            if data is None:
                emit("BAD " + message.encode("utf-8").hex())
                continue
            emit(f"FRAME {kind} {data.hex()}")
            scanner.feed(data)
            await ws.send(data.decode("latin-1"))
    except websockets.ConnectionClosed:
        pass
    finally:
        if State.default_ws is ws:
            State.default_ws = None


async def command_handler(ws):
    State.command_ws = ws
    try:
        async for message in ws:
            if isinstance(message, str):
                emit("CMD " + message)
            else:
                emit("CMD " + bytes(message).decode("latin-1"))
    except websockets.ConnectionClosed:
        pass
    finally:
        if State.command_ws is ws:
            State.command_ws = None


async def target_handler(ws):
    emit(f"TARGET-PROTOCOL {ws.subprotocol}")
    try:
        await ws.send(TARGET_PAGE)
        async for message in ws:
            kind, data = message_bytes(message)
            if data is None:
                data = message.encode("utf-8")
            emit(f"TARGET {kind} {data.hex()}")
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    finally:
        emit("TARGET-CLOSED")


async def handler(ws, path=None):
    path = path_of(ws)
    if path == "/command":
        await command_handler(ws)
    elif path == "/target":
        await target_handler(ws)
    else:
        await default_handler(ws)


async def send_on(ws, text, what):
    if ws is None:
        emit(f"ERROR no {what} connection")
        return
    try:
        await ws.send(text)
    except websockets.ConnectionClosed:
        emit(f"ERROR the {what} connection is closed")


async def run_commands(queue):
    while True:
        line = await queue.get()
        if line == "":
            continue
        if line == "ENQROM":
            await send_on(State.default_ws, ENQROM, "default-server")
        elif line.startswith("SEND "):
            await send_on(State.command_ws, line[len("SEND "):], "command")
        else:
            emit("ERROR unknown command " + line)


def watch_stdin(loop, queue):
    """Queues stdin's lines, read when readable (no thread, no blocking
    read, stdin's flags untouched)."""
    buf = bytearray()

    def readable():
        try:
            chunk = os.read(0, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:   # end of input: the commands stop, the server not
            loop.remove_reader(0)
            return
        buf.extend(chunk)
        while (end := buf.find(b"\n")) >= 0:
            line = bytes(buf[:end]).decode("utf-8", "replace").rstrip("\r")
            del buf[:end + 1]
            queue.put_nowait(line)

    try:
        loop.add_reader(0, readable)
    except (OSError, ValueError):   # closed, or a regular file
        pass


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-hex", help="the page sent on the default server, in hex")
    parser.add_argument("--port", type=int, default=0,
                        help="the port to listen on (default: one chosen by the kernel)")
    parser.add_argument("--quiet", action="store_true",
                        help="print nothing on standard output")
    parser.add_argument("--die-with-parent", action="store_true",
                        help="get SIGKILL when the parent process dies")
    args = parser.parse_args()
    State.quiet = args.quiet
    if args.die_with_parent:
        die_with_parent()
    if args.page_hex is not None:
        State.page = bytes.fromhex(args.page_hex).decode("latin-1")

    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def request_stop():
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, request_stop)
    loop.add_signal_handler(signal.SIGINT, request_stop)

    queue = asyncio.Queue()
    watch_stdin(loop, queue)
    commands = asyncio.ensure_future(run_commands(queue))

    async with websockets.serve(handler, "127.0.0.1", args.port,
                                create_protocol=Protocol,
                                subprotocols=TARGET_SUBPROTOCOLS,
                                close_timeout=2) as server:
        port = server.sockets[0].getsockname()[1]
        emit(f"PORT {port}")
        await stop
        commands.cancel()
    emit("STOPPED")


if __name__ == "__main__":
    asyncio.run(main())
