#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""soak-teletel.py: the Teletel side of bench/soak, and two trickles of users.

- The command channel: a WebSocket server the gateway connects to
  (moipgwd -c ws://127.0.0.1:PORT/). It keeps the ids the gateway
  announces (NewTelnetUser/NewWsUser,<ip>,<port>,<id>) and the events
  of each session.
- Redirections, one user at a time, Telnet and WebSocket in turn: the
  user connects, its id is found from its port, PID=<id>,<n>,CONNECT,
  <target>,None,[] is sent, the user types through the target (echoed),
  then either presses Connexion/Fin (SEP 0x49: UserRequestedClose,
  UserRedirectEnded, typing reaches the default server again, then the
  user leaves) or leaves while redirected. Every step is checked and
  timed out.
- Bans: from a trusted proxy's address (--proxy-address, bound as the
  source address), a PROXY v1 header (Telnet) or X-Forwarded-For
  (WebSocket) names a new address from TEST-NET-2/3 each time; that user
  leaves after 0.2 s (a short session: the gateway bans the address),
  then the same address tries again and must be refused (Telnet: closed
  without a byte; WebSocket: 403).

Prints "listening on port N" once the command server is up. The trickles
start on SIGUSR1 (the gateway's ports read from --ports-file: "TELNET WS")
and run for --duration seconds; the results then go to --output as
key=value lines, and the command channel stays up until SIGTERM.
Python 3 and websockets (Debian: python3-websockets).
"""

import argparse
import asyncio
import ipaddress
import signal
import socket
import sys
import time

import websockets

SEP = b"\x13"
CONNEXION_FIN = SEP + b"\x49"
CONNECT_LINE = b"\x1f\x40\x41CONNECT\x18\x0a"
IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
STEP_TIMEOUT = 10.0


class Failure(Exception):
    pass


class Teletel:
    """The command channel server: ids and events of the sessions."""

    def __init__(self):
        self.ws = None
        self.connected = asyncio.Event()
        self.ids = {}            # client port -> session id (127.0.0.1 users)
        self.ports = {}          # session id -> client port
        self.waiters = []        # (predicate, future)
        self.messages = 0
        self.connections = 0

    async def handler(self, ws, path=None):
        self.ws = ws
        self.connections += 1
        self.connected.set()
        print("command channel connected (%d)" % self.connections, flush=True)
        try:
            async for msg in ws:
                if isinstance(msg, bytes):
                    msg = msg.decode("latin-1")
                self.on_message(msg.strip())
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws is ws:
                self.ws = None
                self.connected.clear()

    def on_message(self, msg):
        self.messages += 1
        fields = msg.split(",")
        kind = fields[0]
        if kind in ("NewTelnetUser", "NewWsUser") and len(fields) >= 4:
            if fields[1] == "127.0.0.1":
                self.ids[int(fields[2])] = fields[3]
                self.ports[fields[3]] = int(fields[2])
        elif kind == "UserGone" and len(fields) >= 4:
            port = self.ports.pop(fields[3], None)
            if port is not None and self.ids.get(port) == fields[3]:
                del self.ids[port]
        now = time.monotonic()
        for entry in list(self.waiters):
            pred, fut, deadline = entry
            if not fut.done() and pred(msg):
                fut.set_result(msg)
            elif deadline < now - 1:
                self.waiters.remove(entry)   # never awaited: the step failed before

    def expect(self, pred, what):
        """Starts waiting for a message at once (so that one arriving
        before the caller awaits is not missed); returns the awaitable."""
        fut = asyncio.get_running_loop().create_future()
        entry = (pred, fut, time.monotonic() + STEP_TIMEOUT)
        self.waiters.append(entry)

        async def wait():
            try:
                return await asyncio.wait_for(fut, STEP_TIMEOUT)
            except asyncio.TimeoutError:
                raise Failure("no " + what + " on the command channel")
            finally:
                if entry in self.waiters:
                    self.waiters.remove(entry)
        return wait()

    async def id_of(self, port):
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            if port in self.ids:
                return self.ids[port]
            await asyncio.sleep(0.02)
        raise Failure("no NewUser for port %d" % port)

    async def send(self, line):
        if self.ws is None:
            raise Failure("the command channel is down")
        await self.ws.send(line)


class TelnetUser:
    def __init__(self):
        self.received = bytearray()
        self.reader = self.writer = None
        self.eof = False

    async def open(self, port, source=None, first=b""):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source:
            sock.bind((source, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        self.reader, self.writer = await asyncio.open_connection(sock=sock)
        if first:
            self.writer.write(first)
        self.task = asyncio.ensure_future(self.pump())
        return sock.getsockname()[1]

    async def pump(self):
        state, cmd = 0, 0
        try:
            while True:
                chunk = await self.reader.read(4096)
                if not chunk:
                    break
                for b in chunk:
                    if state == 0:
                        if b == IAC:
                            state = 1
                        else:
                            self.received.append(b)
                    elif state == 1:
                        if b in (DO, DONT, WILL, WONT):
                            cmd, state = b, 2
                        elif b == SB:
                            state = 3
                        else:
                            if b == IAC:
                                self.received.append(b)
                            state = 0
                    elif state == 2:
                        reply = {WILL: DO if b in (1, 3) else DONT, WONT: DONT,
                                 DO: WILL if b == 3 else WONT, DONT: WONT}[cmd]
                        self.writer.write(bytes([IAC, reply, b]))
                        state = 0
                    elif state == 3:
                        state = 4 if b == IAC else 3
                    elif state == 4:
                        state = 0 if b == SE else 3
        except (ConnectionError, OSError):
            pass
        self.eof = True

    def send(self, data):
        self.writer.write(data)

    async def wait_for(self, needle, start, what):
        deadline = time.monotonic() + STEP_TIMEOUT
        while self.received.find(needle, start) < 0:
            if self.eof or time.monotonic() > deadline:
                raise Failure("Telnet user: no " + what)
            await asyncio.sleep(0.01)
        return self.received.find(needle, start) + len(needle)

    async def close(self):
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        if getattr(self, "task", None):
            await asyncio.wait([self.task], timeout=2)


class WsUser:
    def __init__(self):
        self.received = bytearray()
        self.ws = None
        self.eof = False

    async def open(self, port, source=None, forwarded=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source:
            sock.bind((source, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        local = sock.getsockname()[1]
        headers = {"X-Forwarded-For": forwarded} if forwarded else None
        self.ws = await asyncio.wait_for(
            websockets.connect("ws://127.0.0.1:%d/" % port, sock=sock, extra_headers=headers,
                               ping_interval=None, max_size=None),
            STEP_TIMEOUT)
        self.task = asyncio.ensure_future(self.pump())
        return local

    async def pump(self):
        try:
            async for msg in self.ws:
                self.received += msg if isinstance(msg, bytes) else msg.encode("latin-1")
        except websockets.ConnectionClosed:
            pass
        self.eof = True

    def send(self, data):
        asyncio.ensure_future(self.ws.send(data.decode("latin-1")))

    wait_for = TelnetUser.wait_for

    async def close(self):
        if self.ws:
            await self.ws.close()
            await asyncio.wait([self.task], timeout=2)


class Driver:
    def __init__(self, args, teletel):
        self.args = args
        self.teletel = teletel
        self.stats = {
            "redirects_tried": 0, "redirects_ok": 0, "redirects_failed": 0,
            "redirects_ended_by_key": 0, "redirects_ended_by_leaving": 0,
            "ban_tries": 0, "bans_ok": 0, "ban_first_refused": 0, "ban_not_refused": 0,
            "ban_errors": 0,
        }
        self.failures = {}
        self.server_session = 0
        self.addresses = self.address_pool()

    @staticmethod
    def address_pool():
        for net in ("203.0.113.0/24", "198.51.100.0/24"):
            for a in ipaddress.ip_network(net).hosts():
                yield str(a)

    def fail(self, kind, why):
        self.stats[kind] += 1
        self.failures[why] = self.failures.get(why, 0) + 1

    async def redirect_once(self, n):
        t, ws = self.args.telnet_port, self.args.ws_port
        user = TelnetUser() if n % 2 == 0 else WsUser()
        by_key = n % 3 != 2
        self.stats["redirects_tried"] += 1
        try:
            port = await user.open(t if isinstance(user, TelnetUser) else ws)
            mark = await user.wait_for(CONNECT_LINE, 0, "CONNECT line")
            sid = await self.teletel.id_of(port)
            self.server_session += 1
            ss = str(self.server_session)
            redirected = self.teletel.expect(
                lambda m: m == "UserRedirected,,,%s,%s" % (sid, ss), "UserRedirected")
            await self.teletel.send("PID=%s,%s,CONNECT,%s,None,[]" % (sid, ss, self.args.target))
            await redirected
            mark = await user.wait_for(CONNECT_LINE, mark, "CONNECT line of the redirection")
            user.send(b"redirected")
            mark = await user.wait_for(b"redirected", mark, "echo through the target")
            if by_key:
                ended = self.teletel.expect(
                    lambda m: m == "UserRedirectEnded,,,%s,%s" % (sid, ss), "UserRedirectEnded")
                user.send(CONNEXION_FIN)
                await ended
                user.send(b"back")
                await user.wait_for(b"back", mark, "echo from the default server")
                self.stats["redirects_ended_by_key"] += 1
            gone = self.teletel.expect(lambda m: m == "UserGone,,,%s" % sid, "UserGone")
            await user.close()
            await gone
            if not by_key:
                self.stats["redirects_ended_by_leaving"] += 1
            self.stats["redirects_ok"] += 1
        except Failure as e:
            self.fail("redirects_failed", str(e))
            await user.close()
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
            self.fail("redirects_failed", "%s: %s" % (type(e).__name__, e))
            await user.close()

    async def banned_try(self, telnet, address):
        """True when the gateway refuses this user at once, False when it
        serves it."""
        if telnet:
            user = TelnetUser()
            await user.open(self.args.telnet_port, self.args.proxy_address,
                            b"PROXY TCP4 %s 127.0.0.1 40000 %d\r\n"
                            % (address.encode(), self.args.telnet_port))
            deadline = time.monotonic() + 2
            while not user.eof and not user.received and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            refused = user.eof and not user.received
            if not refused:
                await asyncio.sleep(0.2)
            await user.close()
            return refused
        user = WsUser()
        try:
            await user.open(self.args.ws_port, self.args.proxy_address, address)
        except websockets.InvalidStatusCode as e:
            if e.status_code == 403:
                return True
            raise
        await asyncio.sleep(0.2)
        await user.close()
        return False

    async def ban_once(self, n):
        address = next(self.addresses, None)
        if address is None:
            self.addresses = self.address_pool()
            address = next(self.addresses)
        telnet = n % 2 == 0
        self.stats["ban_tries"] += 1
        try:
            if await self.banned_try(telnet, address):
                self.fail("ban_first_refused", "refused before any ban")
                return
            await asyncio.sleep(0.3)
            if await self.banned_try(telnet, address):
                self.stats["bans_ok"] += 1
            else:
                self.fail("ban_not_refused", "served again after a short session")
        except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as e:
            self.fail("ban_errors", "%s: %s" % (type(e).__name__, e))

    async def loop(self, rate, once, end):
        n = 0
        next_t = time.monotonic()
        while time.monotonic() < end:
            await once(n)
            n += 1
            next_t = max(next_t + 1 / rate, time.monotonic() - 1)
            await asyncio.sleep(max(0, next_t - time.monotonic()))

    async def run(self):
        end = time.monotonic() + self.args.duration
        tasks = []
        if self.args.redirect_rate > 0:
            tasks.append(self.loop(self.args.redirect_rate, self.redirect_once, end))
        if self.args.ban_rate > 0:
            tasks.append(self.loop(self.args.ban_rate, self.ban_once, end))
        await asyncio.gather(*tasks)

    def write(self, path):
        with open(path, "w") as f:
            for k, v in self.stats.items():
                print("%s=%d" % (k, v), file=f)
            print("command_messages=%d" % self.teletel.messages, file=f)
            print("command_connections=%d" % self.teletel.connections, file=f)
            print("failures=%s" % "; ".join("%s (%d)" % kv for kv in self.failures.items()),
                  file=f)


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ports-file", required=True)
    p.add_argument("--target", required=True, help="URI the users are redirected to")
    p.add_argument("--proxy-address", default="127.0.0.2")
    p.add_argument("--duration", type=float, default=300)
    p.add_argument("--redirect-rate", type=float, default=0.5)
    p.add_argument("--ban-rate", type=float, default=1)
    p.add_argument("--output", required=True)
    args = p.parse_args()

    loop = asyncio.get_running_loop()
    teletel = Teletel()
    start = asyncio.Event()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, start.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    server = await websockets.serve(teletel.handler, "127.0.0.1", 0,
                                    subprotocols=["binary", "tty"], ping_interval=None)
    print("listening on port %d" % server.sockets[0].getsockname()[1], flush=True)

    starter = asyncio.ensure_future(start.wait())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([starter, stopper], return_when=asyncio.FIRST_COMPLETED)
    if start.is_set() and not stop.is_set():
        with open(args.ports_file) as f:
            args.telnet_port, args.ws_port = (int(x) for x in f.read().split())
        driver = Driver(args, teletel)
        run = asyncio.ensure_future(driver.run())
        await asyncio.wait([run, stopper], return_when=asyncio.FIRST_COMPLETED)
        if run.done():
            run.result()
        else:
            run.cancel()
        driver.write(args.output)
        print("trickles done: %s" % " ".join("%s=%d" % kv for kv in driver.stats.items()),
              flush=True)
    await stopper
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
