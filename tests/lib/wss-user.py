#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""wss-user.py: a WebSocket user of the gateway over TLS, written with
python3-websockets (10.x asyncio API) and Python's ssl module (OpenSSL:
another TLS implementation than the gateway's GnuTLS), for
tests/test-tls.c.

Usage: wss-user.py URI CAFILE [--tls12] [--hold]

Verifies the gateway's certificate against CAFILE (and its name against
the URI's host), then prints `VERSION <TLS version>`, `SUBJECT <the
certificate's common name>`, and `PAGE` once the demo page (its
"service de d" text) has arrived. --tls12: the client offers TLS 1.2 at
most, as ESP32 cores without TLS 1.3 do. Without --hold it types "k",
waits for its echo, prints `ECHO k` and exits 0. With --hold it reads
lines on standard input: each is typed, and `ECHO <line>` printed when
its echo comes back; at the end of the input it closes and exits 0.
Any failure or timeout (10 s for each step) exits 1 with the reason on
standard error.
"""

import asyncio
import ssl
import sys

import websockets

STEP = 10.0


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def wait_for_text(ws, received, needle):
    while needle not in received[0]:
        message = await asyncio.wait_for(ws.recv(), STEP)
        if isinstance(message, str):
            received[0] += message
        else:
            received[0] += bytes(message).decode("latin-1")


async def main(argv):
    uri, cafile = argv[1], argv[2]
    context = ssl.create_default_context(cafile=cafile)
    if "--tls12" in argv:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    async with websockets.connect(uri, ssl=context, open_timeout=STEP) as ws:
        tls = ws.transport.get_extra_info("ssl_object")
        emit("VERSION " + tls.version())
        subject = dict(pair[0] for pair in tls.getpeercert()["subject"])
        emit("SUBJECT " + subject.get("commonName", ""))
        received = [""]
        await wait_for_text(ws, received, "service de d")
        emit("PAGE")
        if "--hold" not in argv:
            lines = ["k"]
        else:
            lines = None
        loop = asyncio.get_running_loop()
        while True:
            if lines is not None:
                if not lines:
                    break
                line = lines.pop(0)
            else:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if line == "":
                    break
                line = line.strip()
                if not line:
                    continue
            received[0] = ""
            await ws.send(line)
            await wait_for_text(ws, received, line)
            emit("ECHO " + line)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv))
    except Exception as e:  # noqa: BLE001 - any failure is the test's
        sys.stderr.write("wss-user: %s: %s\n" % (type(e).__name__, e))
        sys.exit(1)
