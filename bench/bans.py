#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# bench/bans.py: the ban list at its cap (issue 18). Run by bench/bans
# inside a private D-Bus session (dbus-run-session), so that moipgwd
# serves its API on it (--session-bus).
#
# 1. A gateway (release build, bench/echo-server as its default server,
#    [bans] max-entries=CAP) starts empty: its VmRSS and RssAnon.
# 2. D-Bus Ban fills the list: CAP + CAP/10 bans, each from a distinct
#    IPv6 /64 (a manual ban's reason, "manual, by root (uid 0)"); the
#    list must stop at the cap. VmRSS and RssAnon again, once the saves
#    are done: the difference is the list's memory at the cap (an upper
#    bound: it counts what malloc keeps of the saves' buffers too).
# 3. At the cap, a Telnet user sends a byte and waits for its echo, again
#    and again, for --probe seconds with nothing else going on (the
#    baseline), then for --probe seconds while a ban arrives every 0.25 s
#    (each one changes the list: a save of all CAP entries follows it).
#    The worst round trip of each phase is the stall a save causes.
# 4. The gateway stops (a flush), starts again: every ban is back.
#
# Prints the report block (markdown) on standard output. BANS_LOG_DIR,
# when set, keeps the gateways' logs there.
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import gi
gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'org.moipgw.Gateway1'
PATH = '/org/moipgw/Gateway1'
IFACE = 'org.moipgw.Gateway1'


def status(pid):
    fields = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            key, _, value = line.partition(':')
            if key in ('VmRSS', 'RssAnon', 'VmHWM'):
                fields[key] = int(value.split()[0])
    return fields


class Gateway:
    def __init__(self, moipgwd, echo_port, cap, work, name):
        self.dir = os.path.join(work, 'gw')
        os.makedirs(os.path.join(self.dir, 'state'), exist_ok=True)
        conf = os.path.join(self.dir, 'moipgw.conf')
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            self.metrics = s.getsockname()[1]
        with open(conf, 'w') as f:
            f.write('[bans]\nmin-session=0\nmax-entries=%d\n'
                    '[session]\nmax-sessions-per-address=0\n'
                    '[telnet]\ngarbage-bytes=0\ntyping-rate=0\n'
                    '[metrics]\nlisten=127.0.0.1:%d\n' % (cap, self.metrics))
        self.log_path = os.path.join(os.environ.get('BANS_LOG_DIR', work), name + '.log')
        self.cmd = ['env', 'G_SLICE=always-malloc', moipgwd, '-n', '--session-bus',
                    '--display=off', '--state-dir', os.path.join(self.dir, 'state'),
                    '--config', conf, '-g', self.dir, '-i', '127.0.0.1', '--tcp', '0',
                    '-v', 'ws://127.0.0.1:%d/' % echo_port]
        self.log = open(self.log_path, 'w')
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stderr=self.log, stdout=self.log)
        self.telnet = None
        for _ in range(600):
            with open(self.log_path, errors='replace') as f:
                text = f.read()
            m = re.search(r'listening for Telnet users on port (\d+)', text)
            if m:
                self.telnet = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.telnet is None:
            sys.exit('bench/bans: moipgwd did not start, see ' + self.log_path)
        self.ready = time.monotonic() - self.started

    def metric(self, name):
        with socket.create_connection(('127.0.0.1', self.metrics), timeout=10) as s:
            s.sendall(b'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
            data = b''
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        for line in data.decode().splitlines():
            if line.startswith(name + ' '):
                return float(line.split()[1])
        return None

    def stop(self):
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()
        return time.monotonic() - start


def bus_proxy(bus):
    for _ in range(200):
        try:
            proxy = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.NONE, None, BUS_NAME,
                                           PATH, IFACE, None)
            if proxy.get_name_owner() is not None:
                return proxy
        except GLib.Error:
            pass
        time.sleep(0.05)
    sys.exit('bench/bans: the gateway is not on the bus')


def property_u(bus, name):
    reply = bus.call_sync(BUS_NAME, PATH, 'org.freedesktop.DBus.Properties', 'Get',
                          GLib.Variant('(ss)', (IFACE, name)), None,
                          Gio.DBusCallFlags.NONE, -1, None)
    return reply.unpack()[0]


def address(i):
    return '2001:db8:%x:%x::1' % (i >> 16, i & 0xffff)


def fill(bus, first, n, window=64):
    """n D-Bus Ban calls, `window` in flight; returns the seconds taken."""
    loop = GLib.MainLoop()
    state = {'next': first, 'done': 0, 'errors': 0}

    def done(source, result, _data):
        try:
            source.call_finish(result)
        except GLib.Error:
            state['errors'] += 1
        state['done'] += 1
        if state['next'] < first + n:
            send()
        elif state['done'] == n:
            loop.quit()

    def send():
        i = state['next']
        state['next'] += 1
        bus.call(BUS_NAME, PATH, IFACE, 'Ban', GLib.Variant('(su)', (address(i), 0)),
                 None, Gio.DBusCallFlags.NONE, -1, None, done, None)

    start = time.monotonic()
    for _ in range(min(window, n)):
        send()
    loop.run()
    if state['errors']:
        sys.exit('bench/bans: %d Ban calls failed' % state['errors'])
    return time.monotonic() - start


def wait_saved(path, quiet=1.5, timeout=120):
    """Until banned.json has not changed for `quiet` seconds."""
    last = None
    stable = time.monotonic()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            st = os.stat(path)
            now = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            now = None
        if now != last:
            last = now
            stable = time.monotonic()
        elif now is not None and time.monotonic() - stable >= quiet:
            return
        time.sleep(0.1)


PROBE = r'''
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.settimeout(10)
data = b""
while b"Connected to" not in data:
    data += s.recv(4096)
time.sleep(0.3)
s.setblocking(True)
rtts = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    s.sendall(b"A")
    got = b""
    while b"A" not in got:
        got += s.recv(64)
    rtts.append(time.monotonic() - t)
    time.sleep(0.002)
rtts.sort()
print(len(rtts), rtts[len(rtts) // 2], rtts[int(len(rtts) * 0.99)], rtts[-1])
'''


def probe(port, seconds, work):
    path = os.path.join(work, 'probe.py')
    with open(path, 'w') as f:
        f.write(PROBE)
    return subprocess.Popen([sys.executable, path, str(port), str(seconds)],
                            stdout=subprocess.PIPE, text=True)


def probe_result(proc):
    out, _ = proc.communicate(timeout=120)
    n, p50, p99, worst = out.split()
    return int(n), float(p50) * 1e3, float(p99) * 1e3, float(worst) * 1e3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--moipgwd', required=True)
    parser.add_argument('--echo-port', type=int, required=True)
    parser.add_argument('--cap', type=int, default=100000)
    parser.add_argument('--probe', type=float, default=20)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='moipgw-bench-bans.')
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    cap = args.cap
    extra = cap // 10

    gw = Gateway(args.moipgwd, args.echo_port, cap, work, 'gw1')
    bus_proxy(bus)
    time.sleep(1)
    empty = status(gw.proc.pid)
    fill_s = fill(bus, 0, cap + extra)
    size = property_u(bus, 'BanListSize')
    banned_path = os.path.join(gw.dir, 'state', 'banned.json')
    wait_saved(banned_path)
    full = status(gw.proc.pid)
    files = (os.path.getsize(banned_path), os.path.getsize(banned_path + '.extra.json'))

    base = probe_result(probe(gw.telnet, args.probe, work))
    proc = probe(gw.telnet, args.probe + 1, work)
    time.sleep(0.5)
    ban_times = []
    i = cap + extra
    end = time.monotonic() + args.probe
    while time.monotonic() < end:
        t = time.monotonic()
        bus.call_sync(BUS_NAME, PATH, IFACE, 'Ban', GLib.Variant('(su)', (address(i), 0)),
                      None, Gio.DBusCallFlags.NONE, -1, None)
        ban_times.append(time.monotonic() - t)
        i += 1
        time.sleep(0.25)
    during = probe_result(proc)
    longest = gw.metric('moipgw_ban_save_longest_step_seconds')
    longest_cpu = gw.metric('moipgw_ban_save_longest_step_cpu_seconds')
    dropped = gw.metric('moipgw_bans_dropped_total')
    with open(gw.log_path, errors='replace') as f:
        dropped_lines = sum(1 for line in f if 'The ban list is full' in line)
    stop_s = gw.stop()

    again = Gateway(args.moipgwd, args.echo_port, cap, work, 'gw2')
    bus_proxy(bus)
    again.ready = time.monotonic() - again.started
    reloaded = property_u(bus, 'BanListSize')
    again.stop()

    ban_times.sort()
    mib = 1024.0
    print('Run by `bench/bans` (cap %d, probes of %g s) on %s; moipgwd %s.'
          % (cap, args.probe, time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), args.moipgwd))
    print()
    print('| | |')
    print('|---|---|')
    print('| Bans asked (D-Bus Ban, distinct IPv6 /64s) | %d in %.1f s (%.0f a second) |'
          % (cap + extra, fill_s, (cap + extra) / fill_s))
    print('| BanListSize after them | %d (max-entries %d) |' % (size, cap))
    print('| Bans dropped (moipgw_bans_dropped_total), "The ban list is full" log lines | %d, %d (at most one a minute) |'
          % (dropped, dropped_lines))
    print('| VmRSS empty → at the cap | %d KiB → %d KiB: **%.1f MiB** for %d bans (%.0f bytes each) |'
          % (empty['VmRSS'], full['VmRSS'], (full['VmRSS'] - empty['VmRSS']) / mib, cap,
             (full['VmRSS'] - empty['VmRSS']) * 1024.0 / cap))
    print('| RssAnon empty → at the cap | %d KiB → %d KiB (+%.1f MiB); peak VmHWM %d KiB |'
          % (empty['RssAnon'], full['RssAnon'], (full['RssAnon'] - empty['RssAnon']) / mib,
             full['VmHWM']))
    print('| banned.json, sidecar at the cap | %d bytes, %d bytes |' % files)
    print('| Echo round trip at the cap, no bans (%d) | p50 %.2f ms, p99 %.2f ms, max **%.2f ms** |'
          % base)
    print('| Echo round trip at the cap, a ban every 0.25 s (%d) | p50 %.2f ms, p99 %.2f ms, max **%.2f ms** |'
          % during)
    print('| Longest main loop step of a save: wall clock, CPU time (moipgw_ban_save_longest_step_seconds, _cpu_seconds) | %.2f ms, **%.2f ms** |'
          % (longest * 1e3, longest_cpu * 1e3))
    print('| Load average (1, 5, 15 min) at the end | %s |' % ' '.join(open('/proc/loadavg').read().split()[:3]))
    print('| D-Bus Ban at the cap (%d calls) | median %.2f ms, max %.2f ms |'
          % (len(ban_times), ban_times[len(ban_times) // 2] * 1e3, ban_times[-1] * 1e3))
    print('| Stop (flush) at the cap | %.2f s |' % stop_s)
    print('| Start again: ready, BanListSize | %.2f s, %d |' % (again.ready, reloaded))
    sys.stdout.flush()
    subprocess.call(['rm', '-rf', work])
    if size != cap or reloaded != cap:
        sys.exit('bench/bans: the list did not stop at the cap or did not come back whole')


main()
