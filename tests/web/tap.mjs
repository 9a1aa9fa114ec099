// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * tap.mjs: a tiny TAP harness (no node:test, for Debian 12's Node 18):
 * test(name, fn) queues a test; run() runs them in order and prints
 * TAP version 13, "ok N - name" / "not ok N - name" with "# " lines of
 * diagnostic, then 1..N; the exit code is 1 when a test failed.
 */

const tests = [];

export function test (name, fn) {
  tests.push({ name, fn });
}

export class AssertionError extends Error {}

function show (value) {
  if (value instanceof Uint8Array)
    return '<' + Array.from(value, b => b.toString(16).padStart(2, '0')).join(' ') + '>';
  try {
    return JSON.stringify(value);
  } catch (e) {
    return String(value);
  }
}

export function ok (value, message = 'expected a true value') {
  if (!value)
    throw new AssertionError(message);
}

export function equal (actual, expected, message = '') {
  if (!Object.is(actual, expected))
    throw new AssertionError(`${message ? message + ': ' : ''}got ${show(actual)}, expected ${show(expected)}`);
}

/* Deep equality of plain data: arrays, typed arrays, objects, scalars. */
export function same (actual, expected, message = '') {
  if (!isSame(actual, expected))
    throw new AssertionError(`${message ? message + ': ' : ''}got ${show(actual)}, expected ${show(expected)}`);
}

function isSame (a, b) {
  if (Object.is(a, b))
    return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return false;
  if (ArrayBuffer.isView(a) || Array.isArray(a)) {
    if (!(ArrayBuffer.isView(b) || Array.isArray(b)) || a.length !== b.length)
      return false;
    for (let i = 0; i < a.length; i++)
      if (!isSame(a[i], b[i]))
        return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length)
    return false;
  return ka.every(k => Object.prototype.hasOwnProperty.call(b, k) && isSame(a[k], b[k]));
}

export function throws (fn, message = 'expected an exception') {
  try {
    fn();
  } catch (e) {
    return;
  }
  throw new AssertionError(message);
}

export async function run () {
  console.log('TAP version 13');
  let failed = 0;
  let n = 0;
  for (const t of tests) {
    n++;
    try {
      await t.fn();
      console.log(`ok ${n} - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${n} - ${t.name}`);
      const text = e instanceof AssertionError ? e.message : (e && e.stack) || String(e);
      for (const line of String(text).split('\n'))
        console.log('# ' + line);
    }
  }
  console.log(`1..${n}`);
  process.exitCode = failed ? 1 : 0;
}
