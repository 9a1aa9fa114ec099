#!/usr/bin/python3
"""teletel-server.py: a stand-in for a Teletel videotex server, written
with python3-websockets (10.x asyncio API), for tests/test-interop.c.

It listens on 127.0.0.1, port chosen by the kernel, and prints
`PORT <n>` once listening. For every connection it sends a page as one
text frame, then for every frame received prints
`FRAME <text|binary> <hex of the bytes>` (text: one byte per code point,
latin-1) and echoes the bytes back as a text frame. A text frame with a
code point above U+00FF is printed as `BAD <hex of its UTF-8>` and not
echoed. SIGTERM stops it cleanly: it closes every connection with a
close frame, prints `STOPPED` and exits 0.
"""

import asyncio
import signal
import sys

import websockets

PAGE = "\x0cPYTHON TELETEL\x1b\x39\x7b"


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def handler(ws, path=None):
    await ws.send(PAGE)
    async for message in ws:
        if isinstance(message, str):
            try:
                data = message.encode("latin-1")
            except UnicodeEncodeError:
                emit("BAD " + message.encode("utf-8").hex())
                continue
            kind = "text"
        else:
            data = bytes(message)
            kind = "binary"
        emit(f"FRAME {kind} {data.hex()}")
        await ws.send(data.decode("latin-1"))


async def main():
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def request_stop():
        if not stop.done():
            stop.set_result(None)

    loop.add_signal_handler(signal.SIGTERM, request_stop)
    loop.add_signal_handler(signal.SIGINT, request_stop)

    async with websockets.serve(handler, "127.0.0.1", 0,
                                close_timeout=2) as server:
        port = server.sockets[0].getsockname()[1]
        emit(f"PORT {port}")
        await stop
    emit("STOPPED")


if __name__ == "__main__":
    asyncio.run(main())
