#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-web-browser.py: moipgwd's built-in Minitel web emulator in a real
browser. TAP output.

One headless Chromium, driven through the DevTools protocol over
--remote-debugging-pipe (no port, no race), loads the emulator page from
moipgwd itself and checks it as a user would see it:

  - a `moipgwd --demo` (ws:// and wss:// listeners on port 0): the demo
    page, keys echoed, the METEO redirect and both ways back (Connexion/Fin,
    *** then Sommaire), a screenshot, the page over https:// and wss://;
  - a `moipgwd` whose default server is a pattern server of this script
    (python3-websockets, in a thread): exact pixels of mosaics, colours,
    double size and inverse (the PATTERN table below reads as the spec), a
    connection dropped by the server and the page's reconnect button;
  - the page's decoder fed 800 KiB of pseudo-random bytes: no exception.

The page's DOM contract (ids, data attributes, window.minitel) is in the
SELECTORS and JS constants below: one place to adjust. Environment:
MOIPGWD (the daemon, as meson sets it), MGW_TEST_CHROMIUM (default
`chromium` on PATH), MGW_SCREENSHOT (where to write the demo page's PNG;
default a temporary file), MOIPGW_TEST_WRAPPER (a command put before
moipgwd, as the C tests do). Only python3-websockets beyond the standard
library; run by Debian's /usr/bin/python3."""

import asyncio
import base64
import ctypes
import fcntl
import json
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import websockets

# --- settings: one place for timeouts, sizes and the page's contract ---

WAIT_S = 10.0            # every wait: polled until this deadline
POLL_S = 0.05            # between two polls
WINDOW = (1024, 900)     # the browser's window: a stable screenshot
HOST = '127.0.0.1'       # everything on loopback

SELECTORS = {
    'canvas': '#screen',
    'text': '#screen-text',
    'status': '#status',
    'reconnect': '#reconnect',
    'key': 'button[data-key="%s"]',      # % envoi, retour, suite, sommaire...
}
STATUS_ATTR = 'data-state'               # connecting | open | closed
ROWS, COLS = 25, 40                      # row 0: the status row

# The demo service's texts (src/daemon/mgw-demo.c).
DEMO_TITLE = 'moipgw : service de d\u00e9monstration'   # row 3, double height
DEMO_TITLE_ROW = 3
DEMO_SUBTITLE = 'Passerelle Minitel sur IP'
DEMO_ECHO_ROW = 16                       # where typed keys are echoed
METEO_TITLE = ' METEO MINITEL '
METEO_TEXT = 'Paris'

# The exact palette of the canvas.
PALETTE = {
    'black': (0x00, 0x00, 0x00), 'red': (0xFF, 0x00, 0x00),
    'green': (0x00, 0xFF, 0x00), 'yellow': (0xFF, 0xFF, 0x00),
    'blue': (0x00, 0x00, 0xFF), 'magenta': (0xFF, 0x00, 0xFF),
    'cyan': (0x00, 0xFF, 0xFF), 'white': (0xFF, 0xFF, 0xFF),
}
COLOUR_CODE = {name: i for i, name in enumerate(PALETTE)}   # 0 black .. 7 white

# The renderer entry points the random-bytes check calls after each write, when the page
# has them (on window.minitel, then on window.minitel.screen).
RENDER_CALLS = ['render', 'draw', 'paint', 'redraw']
# What screen.write takes: 'bytes' (a Uint8Array) or 'string' (a code
# point per byte, as WebSocket text frames carry them).
WRITE_TAKES = 'bytes'

# --- Videotex bytes (STUM1B) for the pattern ---

ESC, SO, SI, US, FF, COFF = b'\x1b', b'\x0e', b'\x0f', b'\x1f', b'\x0c', b'\x14'


def at(row, col):
    """US row col: the cursor at Minitel row 1..24, column 1..40."""
    return US + bytes([0x40 + row, 0x40 + col])


def fg(name):
    return ESC + bytes([0x40 + COLOUR_CODE[name]])


def bg(name):
    return ESC + bytes([0x50 + COLOUR_CODE[name]])


NORMAL_SIZE, DOUBLE_SIZE = ESC + b'\x4c', ESC + b'\x4f'
SEPARATED, CONTINUOUS = ESC + b'\x5a', ESC + b'\x59'   # lignage in G1
INVERSE, POSITIVE = ESC + b'\x5d', ESC + b'\x5c'


def mosaic(*blocks):
    """The G1 code of a mosaic: 0x20 always set, then one bit per block."""
    bits = {'TL': 0x01, 'TR': 0x02, 'ML': 0x04, 'MR': 0x08, 'BL': 0x10, 'BR': 0x40}
    code = 0x20
    for b in blocks:
        code |= bits[b]
    return bytes([code])


SIXTHS = ('TL', 'TR', 'ML', 'MR', 'BL', 'BR')

# The pattern page: what the pattern server sends on connect, and what the
# canvas must show. Each entry: a name, its bytes (every entry positions
# the cursor and sets every attribute it relies on), and its expected
# samples (Minitel row, Minitel column 1..40, where in the cell, colour).
# Where: a sixth of a mosaic cell (TL TR ML MR BL BR: sampled at its
# centre), 'C' the cell's centre, 'TOP' / 'BOTTOM' the middle of its top or
# bottom fifth (clear of a '-' glyph's ink).
PATTERN = [
    ('full mosaic block, red',
     at(2, 1) + SO + fg('red') + bg('black') + CONTINUOUS + mosaic(*SIXTHS),
     [(2, 1, s, 'red') for s in SIXTHS]),
    ('mosaic top-left only, green on blue (background at once)',
     at(2, 3) + SO + fg('green') + bg('blue') + CONTINUOUS + mosaic('TL'),
     [(2, 3, 'TL', 'green')] + [(2, 3, s, 'blue') for s in SIXTHS if s != 'TL']),
    ('mosaic top-left, middle-right, bottom-right, yellow on magenta',
     at(2, 5) + SO + fg('yellow') + bg('magenta') + CONTINUOUS + mosaic('TL', 'MR', 'BR'),
     [(2, 5, s, 'yellow' if s in ('TL', 'MR', 'BR') else 'magenta') for s in SIXTHS]),
    ('mosaic top-right, middle row, bottom-left, cyan on red',
     at(2, 7) + SO + fg('cyan') + bg('red') + CONTINUOUS + mosaic('TR', 'ML', 'MR', 'BL'),
     [(2, 7, s, 'cyan' if s in ('TR', 'ML', 'MR', 'BL') else 'red') for s in SIXTHS]),
    ('separated mosaic, full, white on blue (block centres)',
     at(4, 1) + SO + fg('white') + bg('blue') + SEPARATED + mosaic(*SIXTHS) + CONTINUOUS,
     [(4, 1, s, 'white') for s in SIXTHS]),
    ('separated mosaic, left column, green on black',
     at(4, 3) + SO + fg('green') + bg('black') + SEPARATED + mosaic('TL', 'ML', 'BL') + CONTINUOUS,
     [(4, 3, s, 'green' if s in ('TL', 'ML', 'BL') else 'black') for s in SIXTHS]),
    ('text background from a space delimiter, red',
     at(6, 1) + SI + NORMAL_SIZE + POSITIVE + fg('white') + bg('red') + b' AB ',
     [(6, 1, 'C', 'red'), (6, 4, 'C', 'red')]),
    ('double size: the cell above and to the right share the background',
     at(10, 3) + SI + NORMAL_SIZE + POSITIVE + fg('yellow') + bg('blue') + b' '
     + DOUBLE_SIZE + b'-' + NORMAL_SIZE,
     [(10, 3, 'C', 'blue'),                           # the delimiter
      (10, 4, 'BOTTOM', 'blue'), (9, 4, 'TOP', 'blue'),   # the character, above
      (10, 5, 'BOTTOM', 'blue'), (9, 5, 'TOP', 'blue'),   # to the right
      (9, 3, 'C', 'black')]),                         # not above the delimiter
    ('inverse space: red on black shown as red',
     at(12, 1) + SI + NORMAL_SIZE + POSITIVE + fg('red') + bg('black') + b' '
     + INVERSE + b'  ' + POSITIVE,
     [(12, 1, 'C', 'black'), (12, 2, 'C', 'red'), (12, 3, 'C', 'red')]),
    ('inverse space: white on blue shown as white',
     at(12, 5) + SI + NORMAL_SIZE + POSITIVE + fg('white') + bg('blue') + b' '
     + INVERSE + b' ' + POSITIVE,
     [(12, 5, 'C', 'blue'), (12, 6, 'C', 'white')]),
]
# The whole page: clear, cursor off, the entries, the cursor parked away.
PATTERN_BYTES = FF + COFF + b''.join(e[1] for e in PATTERN) + SI + at(24, 1)
# The text copy: mosaics are spaces, row 6 the text entry.
PATTERN_TEXT = {2: ' ' * COLS, 6: ' AB '.ljust(COLS)}
# The double-size character's 2 x 2 cells (rows 9-10, columns 4-5): some
# ink other than the background.
PATTERN_INK = (9, 4, 2, 2, 'blue')


# --- TAP ---

class Tap:
    """TAP lines as the checks end: ok N - name, # diagnostics, 1..N."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.passed = set()

    def result(self, name, ok, diag=()):
        self.n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name))
        for line in diag:
            for part in str(line).splitlines() or ['']:
                print('# ' + part)
        sys.stdout.flush()
        if ok:
            self.passed.add(name)
        else:
            self.failed += 1

    def diag(self, text):
        for part in str(text).splitlines():
            print('# ' + part)
        sys.stdout.flush()

    def end(self):
        print('1..%d' % self.n)
        sys.stdout.flush()


class CheckFailed(Exception):
    """A check's expectation not met; its lines are diagnostics."""

    def __init__(self, message, diag=()):
        super().__init__(message)
        self.diag = list(diag)


# --- child processes ---

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In a child: SIGKILL when this test process dies (as
    mgw_test_die_with_parent does for the C tests)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def kill(proc):
    """Kill a child of ours (by its own pid) and reap it."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def deadline_loop(what, timeout=WAIT_S):
    """Yields until the deadline, then raises TimeoutError(what)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        yield
        time.sleep(POLL_S)
    raise TimeoutError('timed out (%g s) waiting for %s' % (timeout, what))


class Daemon:
    """moipgwd as the C tests start it (daemon_spawn_valist): its own
    config file, --display=off (no console on its fixed port), --no-dbus,
    a private state directory, 127.0.0.1 only, stdout and stderr merged and
    kept; ports read from its 'listening for ... users on port N' lines."""

    def __init__(self, name, tmp, args, config=''):
        self.name = name
        self.lines = []
        self.lock = threading.Lock()
        config_path = os.path.join(tmp, name + '.conf')
        state = os.path.join(tmp, name + '-state')
        os.mkdir(state)
        with open(config_path, 'w') as f:
            f.write(config)
        moipgwd = os.environ.get('MOIPGWD')
        if not moipgwd:
            raise CheckFailed('MOIPGWD is not set (meson sets it to the built moipgwd)')
        argv = shlex.split(os.environ.get('MOIPGW_TEST_WRAPPER', ''))
        argv += [moipgwd, '--config=' + config_path, '--display=off', '--no-dbus',
                 '--state-dir', state, '-i', HOST] + args
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.lock:
                self.lines.append(raw.decode('utf-8', 'replace').rstrip('\n'))

    def output(self):
        with self.lock:
            return '\n'.join(self.lines)

    def tail(self, n=15):
        with self.lock:
            return ['%s: %s' % (self.name, l) for l in self.lines[-n:]]

    def port(self, what):
        """The port of the 'WebSocket' or 'WebSocket TLS' listener."""
        pattern = re.compile(r'listening for %s users on port (\d+)' % re.escape(what))
        for _ in deadline_loop('"listening for %s users" from %s' % (what, self.name)):
            m = pattern.search(self.output())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                time.sleep(0.1)   # its last lines
                raise CheckFailed('%s exited (%d) before listening' % (self.name, self.proc.returncode),
                                  self.tail(30))

    def stop(self):
        kill(self.proc)


# --- the DevTools protocol over a pipe ---

class CdpError(Exception):
    pass


class Browser:
    """Headless Chromium with --remote-debugging-pipe: JSON messages ended
    by NUL, read by the browser on its fd 3, written on its fd 4. A reader
    thread matches answers to requests by id and keeps the events."""

    def __init__(self, tmp):
        exe = os.environ.get('MGW_TEST_CHROMIUM') or shutil.which('chromium')
        if not exe or not os.access(exe, os.X_OK):
            raise CheckFailed('Chromium is missing (%s): install the Debian package chromium, '
                              'or set MGW_TEST_CHROMIUM' %
                              (os.environ.get('MGW_TEST_CHROMIUM') or 'no chromium on PATH'))
        home = os.path.join(tmp, 'chromium')
        os.mkdir(home)
        self.log_path = os.path.join(tmp, 'chromium.log')
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
        # The browser's ends must be its fds 3 and 4: put them there in
        # this process for the spawn (whatever held 3 and 4 set aside and
        # put back after), the other fds kept out of the way above 10.
        # Done before any other child or thread exists.
        def high(fd):
            moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            os.close(fd)
            return moved
        to_r, to_w = map(high, os.pipe())      # we write, the browser reads (its 3)
        from_r, from_w = map(high, os.pipe())  # the browser writes (its 4), we read
        saved = {}
        for fd in (3, 4):
            try:
                saved[fd] = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
            except OSError:
                saved[fd] = None
        os.dup2(to_r, 3)
        os.dup2(from_w, 4)
        flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 # for containers and CI:
                 '--disable-dev-shm-usage', '--no-proxy-server',
                 '--user-data-dir=' + os.path.join(home, 'profile'),
                 '--window-size=%d,%d' % WINDOW, '--hide-scrollbars',
                 # The TLS check's self-signed certificate (one browser for all).
                 '--ignore-certificate-errors',
                 '--remote-debugging-pipe', 'about:blank']
        try:
            with open(self.log_path, 'wb') as log:
                self.proc = subprocess.Popen([exe] + flags, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=log, env=env, preexec_fn=die_with_parent,
                                             pass_fds=(3, 4))
        finally:
            for fd, old in saved.items():
                if old is None:
                    os.close(fd)
                else:
                    os.dup2(old, fd, inheritable=False)
                    os.close(old)
            os.close(to_r)
            os.close(from_w)
        self.wfd, self.rfd = to_w, from_r
        self.next_id = 0
        self.answers = {}
        self.events = []
        self.listeners = []
        self.cond = threading.Condition()
        self.write_lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b''
        while True:
            try:
                chunk = os.read(self.rfd, 65536)
            except OSError:
                chunk = b''
            if not chunk:
                break
            buf += chunk
            while b'\0' in buf:
                raw, buf = buf.split(b'\0', 1)
                msg = json.loads(raw)
                with self.cond:
                    if 'id' in msg:
                        self.answers[msg['id']] = msg
                    else:
                        self.events.append(msg)
                        for listener in self.listeners:
                            listener(msg)
                    self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def send(self, method, params=None, session=None, timeout=WAIT_S):
        """One command; its result, or CdpError."""
        with self.cond:
            self.next_id += 1
            mid = self.next_id
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        data = json.dumps(msg).encode() + b'\0'
        with self.write_lock:
            while data:
                _, w, _ = select.select([], [self.wfd], [], timeout)
                if not w:
                    raise CdpError('%s: the browser reads nothing' % method)
                data = data[os.write(self.wfd, data):]
        end = time.monotonic() + timeout
        with self.cond:
            while mid not in self.answers:
                left = end - time.monotonic()
                if self.closed:
                    raise CdpError('%s: the browser closed its pipe (exit %s)' %
                                   (method, self.proc.poll()))
                if left <= 0:
                    raise CdpError('%s: no answer within %g s' % (method, timeout))
                self.cond.wait(left)
            answer = self.answers.pop(mid)
        if 'error' in answer:
            raise CdpError('%s: %s' % (method, answer['error'].get('message')))
        return answer.get('result', {})

    def log_tail(self, n=10):
        try:
            with open(self.log_path, errors='replace') as f:
                return ['chromium: ' + l.rstrip('\n') for l in f.readlines()[-n:]]
        except OSError:
            return []

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send('Browser.close', timeout=3)
                self.proc.wait(3)
            except (CdpError, OSError, subprocess.TimeoutExpired):
                pass
        kill(self.proc)
        for fd in (self.wfd, self.rfd):
            try:
                os.close(fd)
            except OSError:
                pass


class JsError(Exception):
    pass


class Page:
    """One tab (a flattened session) and the emulator page in it."""

    def __init__(self, browser):
        self.b = browser
        target = browser.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.session = browser.send('Target.attachToTarget',
                                    {'targetId': target, 'flatten': True})['sessionId']
        self.errors = []        # uncaught exceptions, console.error: fail the run
        self.log_errors = []    # Log.entryAdded errors (network...): diagnostics
        browser.listeners.append(self._event)
        for domain in ('Page', 'Runtime', 'Log'):
            self.send(domain + '.enable')
        # The viewport exactly the window's size, whatever the headless
        # mode's window decorations: a stable screenshot.
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': WINDOW[0], 'height': WINDOW[1], 'deviceScaleFactor': 1,
                   'mobile': False})
        self.daemon = None      # whose stderr tail a timeout prints

    def _event(self, msg):
        if msg.get('sessionId') != self.session:
            return
        method, p = msg.get('method'), msg.get('params', {})
        if method == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            exc = d.get('exception', {}).get('description') or d.get('text')
            self.errors.append('uncaught exception: %s (%s:%s)' %
                               (exc, d.get('url', '?'), d.get('lineNumber', '?')))
        elif method == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            args = ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', []))
            self.errors.append('console.%s: %s' % (p['type'], args))
        elif method == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
            e = p['entry']
            self.log_errors.append('%s: %s %s' % (e.get('source'), e.get('text'), e.get('url', '')))

    def send(self, method, params=None, timeout=WAIT_S):
        return self.b.send(method, params, self.session, timeout)

    def evaluate(self, expression, timeout=WAIT_S):
        """The value of a JavaScript expression (promises awaited)."""
        r = self.send('Runtime.evaluate', {'expression': expression, 'returnByValue': True,
                                           'awaitPromise': True}, timeout)
        if 'exceptionDetails' in r:
            d = r['exceptionDetails']
            raise JsError(d.get('exception', {}).get('description') or d.get('text'))
        return r.get('result', {}).get('value')

    def call(self, function, *args, timeout=WAIT_S):
        """A JavaScript function's value, called with JSON arguments."""
        return self.evaluate('(%s)(%s)' % (function, ', '.join(json.dumps(a) for a in args)),
                             timeout)

    # -- the page's state, as the contract defines it --

    def rows(self):
        """The text copy: 25 rows of 40 characters, or None."""
        text = self.call('(s) => { const e = document.querySelector(s); '
                         'return e ? e.textContent : null; }', SELECTORS['text'])
        return None if text is None else text.split('\n')

    def status(self):
        return self.call('(s, a) => { const e = document.querySelector(s); '
                         'return e ? [e.getAttribute(a), e.textContent] : null; }',
                         SELECTORS['status'], STATUS_ATTR)

    def diagnostics(self):
        """What a failed wait prints: the text copy, the status, the
        daemon's last lines, the page's errors."""
        out = []
        try:
            out.append('status: %r' % (self.status(),))
            rows = self.rows()
            if rows is None:
                out.append('no text copy (%s)' % SELECTORS['text'])
            else:
                out += ['%2d|%s|' % (i, r) for i, r in enumerate(rows)]
        except (JsError, CdpError) as e:
            out.append('page not readable: %s' % e)
        if self.daemon is not None:
            out += self.daemon.tail()
        out += self.errors + self.log_errors
        return out

    def wait(self, what, probe, timeout=WAIT_S):
        """Poll probe() (True, or a value to return) until the deadline;
        JavaScript and protocol errors count as not yet (a page loading)."""
        last = None
        try:
            for _ in deadline_loop(what, timeout):
                try:
                    v = probe()
                    if v:
                        return v
                except (JsError, CdpError) as e:
                    last = e
        except TimeoutError as e:
            raise CheckFailed(str(e), (['last error: %s' % last] if last else [])
                              + self.diagnostics())

    def wait_state(self, state):
        self.wait('status %s' % state, lambda: (self.status() or [None])[0] == state)

    def wait_text(self, text, row=None):
        """Wait for text in the text copy (in row, if given)."""
        def probe():
            rows = self.rows()
            if rows is None:
                return False
            return any(text in r for r in (rows if row is None else rows[row:row + 1]))
        self.wait('%r in the text copy%s' % (text, '' if row is None else ' row %d' % row), probe)

    def navigate(self, url):
        r = self.send('Page.navigate', {'url': url})
        if r.get('errorText'):
            raise CheckFailed('%s: %s' % (url, r['errorText']), self.diagnostics())
        self.wait('page %s loaded' % url, lambda: self.call(
            '(s) => document.readyState === "complete" && !!document.querySelector(s)',
            SELECTORS['canvas']))

    # -- a user's input: real key and mouse events --

    def focus_screen(self):
        """The canvas focused (or at least no button: Enter on a focused
        button would click it)."""
        self.call('(s) => { if (document.activeElement) document.activeElement.blur(); '
                  'const c = document.querySelector(s); if (c) c.focus(); }', SELECTORS['canvas'])

    def key(self, key, text=None, code=None, keycode=None):
        down = {'type': 'keyDown', 'key': key}
        if text is not None:
            down['text'] = down['unmodifiedText'] = text
        if code is not None:
            down['code'] = code
        if keycode is not None:
            down['windowsVirtualKeyCode'] = down['nativeVirtualKeyCode'] = keycode
        self.send('Input.dispatchKeyEvent', down)
        up = dict(down, type='keyUp')
        up.pop('text', None)
        up.pop('unmodifiedText', None)
        self.send('Input.dispatchKeyEvent', up)

    def type(self, text):
        """Each character a key pressed and released (with its code and
        key code for letters, digits and space, as a US keyboard gives)."""
        self.focus_screen()
        for ch in text:
            if ch.isascii() and ch.isalpha():
                self.key(ch, ch, 'Key' + ch.upper(), ord(ch.upper()))
            elif ch.isascii() and ch.isdigit():
                self.key(ch, ch, 'Digit' + ch, ord(ch))
            elif ch == ' ':
                self.key(ch, ch, 'Space', 32)
            else:
                self.key(ch, ch)

    def enter(self):
        self.focus_screen()
        self.key('Enter', '\r', 'Enter', 13)

    def click(self, selector):
        """A real left click at the centre of the element's box."""
        box = self.call('(s) => { const e = document.querySelector(s); if (!e) return null; '
                        'e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect(); '
                        'return [r.x + r.width / 2, r.y + r.height / 2, r.width, r.height]; }',
                        selector)
        if box is None:
            raise CheckFailed('no element %s' % selector, self.diagnostics())
        x, y, w, h = box
        if w <= 0 or h <= 0:
            raise CheckFailed('%s is not visible (%gx%g)' % (selector, w, h), self.diagnostics())
        for kind in ('mouseMoved', 'mousePressed', 'mouseReleased'):
            ev = {'type': kind, 'x': x, 'y': y}
            if kind != 'mouseMoved':
                ev.update(button='left', buttons=1 if kind == 'mousePressed' else 0, clickCount=1)
            self.send('Input.dispatchMouseEvent', ev)

    def click_key(self, name):
        self.click(SELECTORS['key'] % name)

    # -- the canvas --

    def cell_size(self):
        """CW, CH: the canvas is exactly 40 CW x 25 CH."""
        w, h = self.call('(s) => { const c = document.querySelector(s); '
                         'return [c.width, c.height]; }', SELECTORS['canvas'])
        if w % COLS or h % ROWS:
            raise CheckFailed('canvas %dx%d is not 40 x 25 whole cells' % (w, h))
        return w // COLS, h // ROWS

    def pixels(self, points):
        """[r, g, b] at each (x, y) of the canvas, by getImageData."""
        return self.call('(s, pts) => { const c = document.querySelector(s); '
                         'const g = c.getContext("2d"); '
                         'return pts.map(([x, y]) => '
                         '  Array.from(g.getImageData(x, y, 1, 1).data).slice(0, 3)); }',
                         SELECTORS['canvas'], points)


def sample_point(row, col, where, cw, ch):
    """A canvas point of cell (row 0..24, Minitel column 1..40): a sixth's
    centre, the cell's centre, or the middle of its top or bottom fifth."""
    x0, y0 = (col - 1) * cw, row * ch
    if where in SIXTHS:
        i = SIXTHS.index(where)
        return int(x0 + (i % 2 + 0.5) * cw / 2), int(y0 + (i // 2 + 0.5) * ch / 3)
    fy = {'C': 0.5, 'TOP': 0.1, 'BOTTOM': 0.9}[where]
    return int(x0 + cw / 2), int(y0 + fy * ch)


# --- the pattern server: the default server of the second moipgwd ---

class PatternServer:
    """A videotex server (python3-websockets, its own asyncio loop in a
    thread): PATTERN_BYTES to each connection, then it reads until closed;
    drop() closes every connection from the server's side."""

    def __init__(self):
        self.connections = 0
        self.open = set()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(WAIT_S):
            raise CheckFailed('the pattern server did not start')

    async def _handler(self, ws, path=None):
        self.connections += 1
        self.open.add(ws)
        try:
            # Text frames, a code point per byte (the gateway's default).
            await ws.send(PATTERN_BYTES.decode('latin-1'))
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            pass
        finally:
            self.open.discard(ws)

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def start():
            self.server = await websockets.serve(self._handler, HOST, 0)
            self.port = self.server.sockets[0].getsockname()[1]
            self.ready.set()
        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def drop(self):
        async def close_all():
            for ws in list(self.open):
                await ws.close(1000, 'pattern server: bye')
        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(WAIT_S)

    def stop(self):
        async def shut():
            self.server.close()
            await self.server.wait_closed()
        try:
            asyncio.run_coroutine_threadsafe(shut(), self.loop).result(WAIT_S)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT_S)


# --- the checks ---

def check_demo_page(t):
    """The demo page from `moipgwd --demo`, connected, its title shown."""
    t.page.daemon = t.demo
    t.page.navigate('http://%s:%d/' % (HOST, t.demo_port))
    t.page.wait_state('open')
    t.page.wait_text(DEMO_TITLE, DEMO_TITLE_ROW)
    t.page.wait_text(DEMO_SUBTITLE)
    rows = t.page.rows()
    if len(rows) != ROWS or any(len(r) != COLS for r in rows):
        raise CheckFailed('the text copy is not 25 rows of 40: %s' % [len(r) for r in rows])


def check_screenshot(t):
    """A PNG of the viewport with the demo page, for the README."""
    png = base64.b64decode(t.page.send('Page.captureScreenshot', {'format': 'png'})['data'])
    if not png.startswith(b'\x89PNG\r\n\x1a\n'):
        raise CheckFailed('Page.captureScreenshot gave no PNG')
    path = os.environ.get('MGW_SCREENSHOT') or os.path.join(t.tmp, 'demo-page.png')
    with open(path, 'wb') as f:
        f.write(png)
    t.tap.diag('screenshot: %s (%d bytes)' % (path, len(png)))


def check_echo(t):
    """Keys typed come back in echo on the demo's row 16; Enter is Envoi."""
    t.page.type('Bonjour')
    t.page.wait_text('Bonjour', DEMO_ECHO_ROW)
    t.page.enter()     # Envoi: an unknown service (and the field emptied)
    t.page.wait_text('Service inconnu : BONJOUR')


def to_meteo(t):
    t.page.type('METEO')
    t.page.enter()
    t.page.wait_text(METEO_TITLE)
    t.page.wait_text(METEO_TEXT)


def check_meteo_connexion(t):
    """METEO + Envoi redirects; the Connexion/Fin button brings back."""
    to_meteo(t)
    t.page.click_key('connexion')
    t.page.wait_text(DEMO_TITLE, DEMO_TITLE_ROW)


def check_meteo_sommaire(t):
    """METEO again, then *** and the Sommaire button: back."""
    to_meteo(t)
    t.page.type('***')
    t.page.click_key('sommaire')
    t.page.wait_text(DEMO_TITLE, DEMO_TITLE_ROW)


def check_tls(t):
    """The page over https://, connected by wss://, the demo shown."""
    t.page.navigate('https://%s:%d/' % (HOST, t.demo_tls_port))
    t.page.wait_state('open')
    t.page.wait_text(DEMO_TITLE, DEMO_TITLE_ROW)
    url = t.page.evaluate('window.minitel && window.minitel.socket && window.minitel.socket.url')
    if not str(url).startswith('wss://'):
        raise CheckFailed('the socket is %r, not wss://' % url, t.page.diagnostics())


def pattern_mismatches(t):
    """The PATTERN samples that differ, as text (empty: all right)."""
    cw, ch = t.page.cell_size()
    samples = [(name, s) for name, _, expected in PATTERN for s in expected]
    points = [sample_point(r, c, where, cw, ch) for _, (r, c, where, _) in samples]
    got = t.page.pixels(points)
    bad = []
    for (name, (r, c, where, colour)), (x, y), rgb in zip(samples, points, got):
        if tuple(rgb) != PALETTE[colour]:
            bad.append('%s: row %d col %d %s (%d,%d) is #%02X%02X%02X, not %s' %
                       ((name, r, c, where, x, y) + tuple(rgb) + (colour,)))
    row, col, h, w, background = PATTERN_INK
    ink = t.page.call('(s, x, y, w, h, bg) => { const g = document.querySelector(s).getContext("2d");'
                      ' const d = g.getImageData(x, y, w, h).data; let n = 0;'
                      ' for (let i = 0; i < d.length; i += 4)'
                      '   if (d[i] != bg[0] || d[i + 1] != bg[1] || d[i + 2] != bg[2]) n++;'
                      ' return n; }', SELECTORS['canvas'], (col - 1) * cw, (row) * ch,
                      w * cw, h * ch, PALETTE[background])
    if ink == 0:
        bad.append('no ink in the double-size character (rows %d-%d, columns %d-%d)' %
                   (row, row + h - 1, col, col + w - 1))
    rows = t.page.rows() or []
    for r, text in PATTERN_TEXT.items():
        if len(rows) <= r or rows[r] != text:
            bad.append('text row %d is %r, not %r' % (r, rows[r] if len(rows) > r else None, text))
    return bad


def wait_pattern(t):
    bad = []

    def probe():
        bad[:] = pattern_mismatches(t)
        return not bad
    try:
        t.page.wait('the pattern drawn', probe)
    except CheckFailed as e:
        raise CheckFailed(str(e), bad + e.diag)


def check_pattern(t):
    """The pattern page's pixels (PATTERN), exactly."""
    t.page.daemon = t.patternd
    t.page.navigate('http://%s:%d/' % (HOST, t.pattern_port))
    t.page.wait_state('open')
    wait_pattern(t)


def check_reconnect(t):
    """The server drops the user: closed, said; #reconnect: all back."""
    before = t.pattern.connections
    t.pattern.drop()
    t.page.wait_state('closed')
    said = t.page.status()[1].strip()
    if not said:
        raise CheckFailed('#status shows no text when closed', t.page.diagnostics())
    t.page.click(SELECTORS['reconnect'])
    t.page.wait_state('open')
    t.page.wait('a new connection to the pattern server',
                lambda: t.pattern.connections > before)
    wait_pattern(t)


FEED_JS = '''(renderCalls, asString) => {
  // xorshift32: the same 200 x 4 KiB every run.
  let s = 0x2545F491;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s & 0xff; };
  const m = window.minitel;
  const calls = [];
  for (const name of renderCalls) {
    if (typeof m[name] === 'function') calls.push(() => m[name]());
    if (m.screen && typeof m.screen[name] === 'function') calls.push(() => m.screen[name]());
  }
  for (let i = 0; i < 200; i++) {
    const chunk = new Uint8Array(4096);
    for (let j = 0; j < chunk.length; j++) chunk[j] = next();
    m.screen.write(asString ? String.fromCharCode(...chunk) : chunk);
    for (const call of calls) call();
  }
  // Two frames for the page's own renderer (or half a second).
  return new Promise((done) => {
    const end = () => done(calls.length);
    setTimeout(end, 500);
    requestAnimationFrame(() => requestAnimationFrame(end));
  });
}'''


def check_feed(t):
    """800 KiB of pseudo-random bytes through screen.write: no exception."""
    t.page.daemon = t.patternd
    t.page.navigate('http://%s:%d/' % (HOST, t.pattern_port))
    t.page.wait_state('open')
    errors = len(t.page.errors)
    try:
        calls = t.page.call(FEED_JS, RENDER_CALLS, WRITE_TAKES == 'string', timeout=WAIT_S * 2)
    except JsError as e:
        raise CheckFailed('the feed threw: %s' % e)
    t.tap.diag('renderer entry points called: %d' % calls)
    time.sleep(0.2)
    if len(t.page.errors) > errors:
        raise CheckFailed('page errors during the feed', t.page.errors[errors:])
    rows = t.page.rows()
    if rows is None or len(rows) != ROWS or any(len(r) != COLS for r in rows):
        raise CheckFailed('the text copy is no longer 25 rows of 40', t.page.diagnostics())
    t.page.cell_size()


def start_demo(t):
    """moipgwd --demo, its ws:// and wss:// listeners on port 0 (the TLS
    pair of tests/data: self-signed for 127.0.0.1)."""
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
    t.demo = Daemon('demo', t.tmp, [
        '--demo', '--tcp', 'off', '--ws', '0', '--wss', '0',
        '--tls-certificate', os.path.join(data, 'test-server.pem'),
        '--tls-key', os.path.join(data, 'test-server.key')])
    t.demo_port = t.demo.port('WebSocket')
    t.demo_tls_port = t.demo.port('WebSocket TLS')


def start_pattern(t):
    """moipgwd whose default server is the pattern server, no command
    channel, the emulator on by its configuration file."""
    t.pattern = PatternServer()
    t.patternd = Daemon('pattern', t.tmp, [
        '--tcp', 'off', '--ws', '0', '-n', '-v', 'ws://%s:%d/' % (HOST, t.pattern.port)],
        config='[web]\nemulator=on\n')
    t.pattern_port = t.patternd.port('WebSocket')


CHECKS = [
    # (TAP name, function, the checks it needs)
    ('moipgwd --demo started', start_demo, []),
    ('moipgwd with the pattern server started', start_pattern, []),
    ('demo page over http, connected, title shown', check_demo_page, [start_demo]),
    ('screenshot of the demo page', check_screenshot, [check_demo_page]),
    ('typed keys echoed, Enter is Envoi', check_echo, [check_demo_page]),
    ('METEO redirect, back with the connexion button', check_meteo_connexion, [check_demo_page]),
    ('METEO redirect, back with *** and the sommaire button', check_meteo_sommaire,
     [check_demo_page]),
    ('page over https, connected by wss', check_tls, [start_demo]),
    ('pattern page: mosaics, colours, double size, inverse', check_pattern, [start_pattern]),
    ('connection dropped: closed, reconnect button', check_reconnect, [check_pattern]),
    ('800 KiB of random bytes to screen.write: no exception', check_feed, [start_pattern]),
]


class Test:
    """What the checks share: the tap, the temp dir, the processes."""
    pass


def main():
    tap = Tap()
    print('TAP version 13')
    t = Test()
    t.tap = tap
    t.tmp = tempfile.mkdtemp(prefix='moipgw-test-web-')
    t.browser = t.page = t.demo = t.patternd = t.pattern = None
    # meson's timeout sends SIGTERM: clean up all the same.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    done = {}
    try:
        # The browser first: its fds 3 and 4 are arranged before any
        # other child or thread exists.
        try:
            t.browser = Browser(t.tmp)
            t.browser.send('Browser.getVersion')
            t.page = Page(t.browser)
            tap.result('headless Chromium started', True)
        except (CheckFailed, CdpError, OSError) as e:
            tap.result('headless Chromium started', False, [str(e)] + getattr(e, 'diag', [])
                       + (t.browser.log_tail() if t.browser else []))
            return 1
        for name, function, needs in CHECKS:
            missing = [n for n, f, _ in CHECKS if f in needs and not done.get(f)]
            if missing:
                tap.result(name, False, ['not run: needs "%s"' % m for m in missing])
                continue
            started = time.monotonic()
            try:
                function(t)
                done[function] = True
                tap.result(name, True, ['%.1f s' % (time.monotonic() - started)])
            except CheckFailed as e:
                tap.result(name, False, [str(e)] + e.diag)
            except (CdpError, JsError, TimeoutError, OSError) as e:
                tap.result(name, False, ['%s: %s' % (type(e).__name__, e)]
                           + t.page.diagnostics() + t.browser.log_tail())
        tap.result('no uncaught exception or console error in the page', not t.page.errors,
                   t.page.errors + ['(not failing) ' + e for e in t.page.log_errors])
        for d in (t.demo, t.patternd):
            if d is not None and (done.get(start_demo) if d is t.demo else done.get(start_pattern)):
                alive = d.proc.poll() is None
                tap.result('%s moipgwd still running' % d.name, alive, [] if alive else d.tail(40))
        return 1 if tap.failed else 0
    except Exception:   # a bug of this script: said, and failing
        tap.result('test-web-browser.py ran without an error', False,
                   traceback.format_exc().splitlines())
        return 1
    finally:
        for stop in (t.browser and t.browser.close, t.demo and t.demo.stop,
                     t.patternd and t.patternd.stop, t.pattern and t.pattern.stop):
            if stop:
                try:
                    stop()
                except Exception as e:
                    tap.diag('cleanup: %s' % e)
        shutil.rmtree(t.tmp, ignore_errors=True)
        tap.end()


if __name__ == '__main__':
    sys.exit(main())
