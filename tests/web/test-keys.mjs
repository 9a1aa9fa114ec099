// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-keys.mjs: the keyboard mapping (data/web/keys.mjs): what a Minitel
 * keyboard sends for printable keys, accented letters, G2 specials,
 * function keys and the page's shortcuts; the keys left to the browser.
 * TAP output.
 */

import { test, ok, equal, same, run } from './tap.mjs';
import { keyToBytes, charBytes, functionKeyBytes, FUNCTION_KEYS } from '../../data/web/keys.mjs';

function key (k, mods = {}) {
  return keyToBytes({ key: k, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, ...mods });
}

function arr (b) {
  return b === null ? null : Array.from(b);
}

test('printable ASCII sent as is', () => {
  for (let c = 0x20; c <= 0x7e; c++)
    same(arr(key(String.fromCharCode(c))), [c], String.fromCharCode(c));
  same(arr(key('A', { shiftKey: true })), [0x41]);
});

test('accented letters: SS2, the accent, the letter', () => {
  const table = {
    'é': [0x42, 0x65], 'è': [0x41, 0x65], 'ê': [0x43, 0x65], 'ë': [0x48, 0x65],
    'à': [0x41, 0x61], 'â': [0x43, 0x61], 'ä': [0x48, 0x61],
    'ù': [0x41, 0x75], 'û': [0x43, 0x75], 'ü': [0x48, 0x75],
    'î': [0x43, 0x69], 'ï': [0x48, 0x69], 'ô': [0x43, 0x6f], 'ö': [0x48, 0x6f],
    'ç': [0x4b, 0x63],
    'É': [0x42, 0x45], 'È': [0x41, 0x45], 'À': [0x41, 0x41], 'Ç': [0x4b, 0x43], 'Ô': [0x43, 0x4f],
  };
  for (const [ch, tail] of Object.entries(table))
    same(arr(key(ch)), [0x19, ...tail], ch);
});

test('G2 specials: SS2 and their code', () => {
  const table = {
    '£': 0x23, '°': 0x30, '±': 0x31, 'œ': 0x7a, 'Œ': 0x6a, 'ß': 0x7b,
    '¼': 0x3c, '½': 0x3d, '¾': 0x3e, '§': 0x27, '÷': 0x38,
  };
  for (const [ch, code] of Object.entries(table))
    same(arr(key(ch)), [0x19, code], ch);
});

test('characters a Minitel cannot send: nothing', () => {
  for (const ch of ['€', 'ñ', 'ş', 'ł', '日', '😀', '\u00a0', 'å'])
    equal(key(ch), null, ch);
  equal(charBytes('ab'), null);
});

test('function keys: SEP and their letter', () => {
  const codes = {
    envoi: 0x41, retour: 0x42, repetition: 0x43, guide: 0x44, annulation: 0x45,
    sommaire: 0x46, correction: 0x47, suite: 0x48, connexion: 0x49,
  };
  for (const [name, code] of Object.entries(codes))
    same(arr(functionKeyBytes(name)), [0x13, code], name);
  equal(FUNCTION_KEYS.length, 9);
  same(FUNCTION_KEYS.map(k => k.name).sort(), Object.keys(codes).sort());
  equal(functionKeyBytes('nope'), null);
  equal(FUNCTION_KEYS.find(k => k.name === 'connexion').label, 'Connexion/Fin');
  equal(FUNCTION_KEYS.find(k => k.name === 'repetition').label, 'Répétition');
});

test('shortcuts: Enter, Backspace, Page Up/Down, F keys', () => {
  const table = {
    Enter: 0x41, Backspace: 0x47, PageDown: 0x48, PageUp: 0x42,
    F1: 0x46, F2: 0x45, F3: 0x42, F4: 0x43, F6: 0x44, F7: 0x48, F8: 0x41, F9: 0x49, F10: 0x47,
  };
  for (const [k, code] of Object.entries(table))
    same(arr(key(k)), [0x13, code], k);
  same(arr(key('Enter', { shiftKey: true })), [0x0d], 'Shift+Enter: the ↵ key');
  same(arr(key('Backspace', { shiftKey: true })), [0x13, 0x45], 'Shift+Backspace: Annulation');
  same(arr(key('Backspace', { ctrlKey: true })), [0x13, 0x45], 'Ctrl+Backspace: Annulation');
});

test('every function key has a shortcut that sends it', () => {
  for (const k of FUNCTION_KEYS) {
    ok(k.shortcuts.length > 0, k.name);
    for (const s of k.shortcuts) {
      const shift = s.startsWith('Shift+');
      same(arr(key(shift ? s.slice(6) : s, { shiftKey: shift })), [0x13, k.code], `${k.name}: ${s}`);
    }
  }
});

test('arrows: CSI A B C D; with Shift the Minitel 1B\'s codes', () => {
  same(arr(key('ArrowUp')), [0x1b, 0x5b, 0x41]);
  same(arr(key('ArrowDown')), [0x1b, 0x5b, 0x42]);
  same(arr(key('ArrowRight')), [0x1b, 0x5b, 0x43]);
  same(arr(key('ArrowLeft')), [0x1b, 0x5b, 0x44]);
  same(arr(key('ArrowUp', { shiftKey: true })), [0x1b, 0x5b, 0x4d]);
  same(arr(key('ArrowDown', { shiftKey: true })), [0x1b, 0x5b, 0x4c]);
  same(arr(key('ArrowLeft', { shiftKey: true })), [0x1b, 0x5b, 0x50]);
  same(arr(key('ArrowRight', { shiftKey: true })), [0x1b, 0x5b, 0x34, 0x68]);
});

test('keys left to the browser: F5, F11, F12, Ctrl/Alt/Meta combinations, Escape, Tab', () => {
  for (const k of ['F5', 'F11', 'F12', 'Escape', 'Tab', 'Shift', 'Control', 'Alt', 'Meta',
    'CapsLock', 'Dead', 'Unidentified', 'Home', 'End', 'Insert', 'Delete', 'ContextMenu'])
    equal(key(k), null, k);
  equal(key('r', { ctrlKey: true }), null, 'Ctrl+R');
  equal(key('l', { ctrlKey: true }), null, 'Ctrl+L');
  equal(key('c', { ctrlKey: true }), null, 'Ctrl+C');
  equal(key('v', { metaKey: true }), null, 'Cmd+V');
  equal(key('f', { altKey: true }), null, 'Alt+F');
  equal(key('Enter', { ctrlKey: true }), null, 'Ctrl+Enter');
  equal(key('F1', { altKey: true }), null, 'Alt+F1');
  equal(keyToBytes({}), null, 'no key');
});

test('AltGr (Ctrl+Alt with a character) types the character', () => {
  same(arr(key('@', { ctrlKey: true, altKey: true })), [0x40]);
  same(arr(key('#', { ctrlKey: true, altKey: true })), [0x23]);
  equal(key('€', { ctrlKey: true, altKey: true }), null);
});

run();
