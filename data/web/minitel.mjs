// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * minitel.mjs: the page. A WebSocket to the gateway that served it, the
 * videotex decoder (videotex.mjs) drawn on the canvas (render.mjs), the
 * keyboard (keys.mjs), the function-key buttons, the status line, a
 * manual reconnection (never an automatic one: the gateway bans
 * addresses opening connections too fast) and the 1200-baud pacing.
 *
 * window.minitel = { screen, socket, state, bytesIn, bytesOut, pending }
 * for tests and the curious: bytesIn and bytesOut count the bytes of the
 * current connection, pending the bytes received and not drawn yet.
 */

import { VideotexScreen } from './videotex.mjs';
import { CanvasRenderer } from './render.mjs';
import { FUNCTION_KEYS, functionKeyBytes, keyToBytes } from './keys.mjs';
import { STRINGS, KEY_NAMES, pickLanguage, format } from './strings.mjs';

/* 1200 baud, 7 data bits, even parity, 1 stop bit: 10 bits a character. */
const PACED_BYTES_PER_SECOND = 120;
const PACING_TICK_MS = 25;
/* Past this many bytes waiting, pacing gives up and draws them at once. */
const PENDING_MAX = 1 << 20;

const language = pickLanguage(navigator.language);
const T = STRINGS[language];

const canvas = document.getElementById('screen');
const textCopy = document.getElementById('screen-text');
const statusLine = document.getElementById('status');
const reconnectButton = document.getElementById('reconnect');
const copyButton = document.getElementById('copy');
const pacingBox = document.getElementById('pacing');

const app = {
  screen: null,
  socket: null,
  state: 'connecting',
  bytesIn: 0,
  bytesOut: 0,
  queue: [],          // received chunks not drawn yet (pacing)
  queueOffset: 0,     // bytes of queue[0] already drawn
  pending: 0,
  pacingTimer: 0,
  budget: 0,          // fractions of a byte the pacing may still draw
  lastTick: 0,
};

window.minitel = {
  get screen () { return app.screen; },
  get socket () { return app.socket; },
  get state () { return app.state; },
  get bytesIn () { return app.bytesIn; },
  get bytesOut () { return app.bytesOut; },
  get pending () { return app.pending; },
};

const screen = new VideotexScreen({
  send: bytes => sendBytes(bytes),
  onChange: () => renderer.schedule(),
});
app.screen = screen;
const renderer = new CanvasRenderer(canvas, screen, textCopy);

/* ---------------- the page's words ---------------- */

function translatePage () {
  document.documentElement.lang = language;
  for (const el of document.querySelectorAll('[data-i18n]'))
    el.textContent = T[el.dataset.i18n];
  for (const el of document.querySelectorAll('[data-i18n-title]'))
    el.title = T[el.dataset.i18nTitle];
  for (const el of document.querySelectorAll('[data-i18n-label]'))
    el.setAttribute('aria-label', T[el.dataset.i18nLabel]);
  const names = KEY_NAMES[language];
  for (const k of FUNCTION_KEYS) {
    const button = document.querySelector(`button[data-key="${k.name}"]`);
    if (button === null)
      continue;
    button.textContent = k.label;
    const shortcuts = k.shortcuts.map(s => names[s] || s).join(', ');
    button.title = format(T.keyTitle, { label: k.label, shortcuts });
  }
  const list = document.getElementById('help-list');
  list.replaceChildren(...T.help.map(line => {
    const item = document.createElement('li');
    item.textContent = line;
    return item;
  }));
}

function setState (state, text) {
  app.state = state;
  statusLine.dataset.state = state;
  statusLine.textContent = text;
  reconnectButton.disabled = state !== 'closed';
}

/* ---------------- the connection ---------------- */

function connect () {
  // The page's own host and port; /replay/ID (a recording the gateway
  // replays) opens that same path, any other page the service at '/'.
  const replay = location.pathname.startsWith('/replay/');
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host +
    (replay ? location.pathname + location.search : '/');
  app.bytesIn = 0;
  app.bytesOut = 0;
  setState('connecting', T.connecting);
  let socket;
  try {
    socket = new WebSocket(url);
  } catch (e) {
    app.socket = null;
    setState('closed', T.failed);
    return;
  }
  socket.binaryType = 'arraybuffer';
  app.socket = socket;
  socket.addEventListener('open', () => {
    if (app.socket === socket)
      setState('open', T.open);
  });
  socket.addEventListener('message', event => {
    if (app.socket === socket)
      receive(event.data);
  });
  socket.addEventListener('close', event => {
    if (app.socket !== socket)
      return;
    let text = T.closed;
    if (event.reason)
      text = format(T.closedReason, { code: event.code, reason: event.reason });
    else if (event.code)
      text = format(T.closedCode, { code: event.code });
    setState('closed', text);
  });
}

/* A frame: binary, or text of one code point per byte (U+0000..U+00FF). */
function receive (data) {
  let bytes;
  if (typeof data === 'string') {
    bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++)
      bytes[i] = data.charCodeAt(i) & 0xff;
  } else {
    bytes = new Uint8Array(data);
  }
  app.bytesIn += bytes.length;
  if (!pacingBox.checked && app.pending === 0) {
    screen.write(bytes);
    return;
  }
  app.queue.push(bytes);
  app.pending += bytes.length;
  if (app.pending > PENDING_MAX)
    drain(Infinity);
  startPacing();
}

/* To the server: a text frame, each byte a code point U+0000..U+007F. */
function sendBytes (bytes) {
  const socket = app.socket;
  if (socket === null || socket.readyState !== WebSocket.OPEN || bytes === null)
    return;
  socket.send(String.fromCharCode(...bytes));
  app.bytesOut += bytes.length;
}

/* ---------------- pacing ---------------- */

/* Draws up to `count` queued bytes. */
function drain (count) {
  while (count > 0 && app.queue.length > 0) {
    const chunk = app.queue[0];
    const n = Math.min(count, chunk.length - app.queueOffset);
    screen.write(chunk.subarray(app.queueOffset, app.queueOffset + n));
    app.queueOffset += n;
    app.pending -= n;
    count -= n;
    if (app.queueOffset >= chunk.length) {
      app.queue.shift();
      app.queueOffset = 0;
    }
  }
}

function startPacing () {
  if (app.pacingTimer !== 0)
    return;
  app.lastTick = performance.now();
  app.budget = 0;
  app.pacingTimer = setInterval(() => {
    const now = performance.now();
    if (!pacingBox.checked) {
      drain(Infinity);
    } else {
      app.budget += (now - app.lastTick) * PACED_BYTES_PER_SECOND / 1000;
      const n = Math.floor(app.budget);
      app.budget -= n;
      drain(n);
    }
    app.lastTick = now;
    if (app.pending === 0) {
      clearInterval(app.pacingTimer);
      app.pacingTimer = 0;
    }
  }, PACING_TICK_MS);
}

function clearQueue () {
  app.queue = [];
  app.queueOffset = 0;
  app.pending = 0;
}

/* ---------------- keyboard and buttons ---------------- */

/* Keys typed in a form control (the checkbox, a button, …) stay there. */
function inFormControl (target) {
  if (!(target instanceof Element))
    return false;
  return target.isContentEditable ||
    target.closest('input, textarea, select, button, summary, label') !== null;
}

document.addEventListener('keydown', event => {
  if (event.isComposing || inFormControl(event.target))
    return;
  const bytes = keyToBytes(event);
  if (bytes === null)
    return;
  event.preventDefault();
  sendBytes(bytes);
});

for (const button of document.querySelectorAll('button[data-key]')) {
  button.addEventListener('click', () => {
    sendBytes(functionKeyBytes(button.dataset.key));
    canvas.focus();     // typing goes on to the Minitel
  });
}

reconnectButton.addEventListener('click', () => {
  if (app.state !== 'closed')
    return;
  clearQueue();
  screen.reset();
  renderer.schedule();
  connect();
  canvas.focus();
});

copyButton.addEventListener('click', async () => {
  const text = screen.textRows().map(row => row.trimEnd()).join('\n');
  try {
    await navigator.clipboard.writeText(text);
    copyButton.title = T.copied;
  } catch (e) {
    /* No clipboard (a page not served over HTTPS): select the copy. */
    const range = document.createRange();
    range.selectNodeContents(textCopy);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    let done = false;
    try {
      done = document.execCommand('copy');
    } catch (e2) {
      done = false;
    }
    copyButton.title = done ? T.copied : T.copyFailed;
  }
  canvas.focus();
});

pacingBox.addEventListener('change', () => {
  if (!pacingBox.checked)
    drain(Infinity);
  canvas.focus();
});

/* ---------------- start ---------------- */

pacingBox.checked = new URLSearchParams(location.search).get('baud') === '1200';
translatePage();
renderer.draw();
canvas.focus();
connect();
