// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * test-videotex.mjs: the videotex decoder (data/web/videotex.mjs) against
 * the STUM 1B: C0 codes, positioning, row 0, attributes, G2, mosaics,
 * sizes, CSI, scroll mode, ENQROM, split input and a fuzz. TAP output.
 */

import { test, ok, equal, same, run } from './tap.mjs';
import {
  VideotexScreen, ROM_IDENTITY, MOSAIC_BITS, COLS, ROWS,
} from '../../data/web/videotex.mjs';

/* Bytes from a string of code points U+0000..U+00FF (C string notation). */
function bytes (s) {
  return Uint8Array.from(s, ch => ch.charCodeAt(0));
}

function screenOf (s, sent = []) {
  const screen = new VideotexScreen({ send: b => sent.push(Array.from(b)) });
  screen.write(bytes(s));
  return screen;
}

function row (screen, r) {
  return screen.textRows()[r];
}

function cell (screen, r, col) {
  return screen.rows[r][col - 1];
}

function at (screen, r, col) {
  return row(screen, r).slice(col - 1);
}

const BLANK = ' '.repeat(40);

const DEMO = '\x0c\x14\x1f\x43\x43\x1b\x4d\x1b\x46moipgw : service de d\x19\x42emonstration' +
  '\x1f\x45\x43\x1b\x47Passerelle Minitel sur IP\x1f\x47\x43\x1b\x43Bienvenue ! Tapez sur le clavier :' +
  '\x1f\x48\x43\x1b\x43chaque touche revient en \x19\x42echo.\x1f\x4a\x43\x1b\x42METEO puis Envoi (Entr\x19\x42ee) :' +
  '\x1f\x4b\x43\x1b\x42un autre service, par la passerelle.\x1f\x4d\x43\x1b\x45Connexion/Fin (Ctrl-S puis I) : retour' +
  '\x1f\x50\x41\x11';

test('a new screen: 25 blank rows of 40, cursor row 1 column 1, hidden', () => {
  const s = new VideotexScreen();
  const rows = s.textRows();
  equal(rows.length, 25);
  ok(rows.every(r => r === BLANK), 'blank rows');
  same(s.cursor, { row: 1, col: 1, visible: false });
  equal(s.rows.length, ROWS);
  ok(s.rows.every(r => r.length === COLS));
});

test('the demo page: texts, colours, double height on row 3', () => {
  const s = screenOf(DEMO);
  const rows = s.textRows();
  ok(rows[3].includes('moipgw : service de démonstration'), rows[3]);
  equal(rows[3].indexOf('moipgw'), 2, 'from column 3');
  equal(rows[2], BLANK, 'the upper halves show nothing in the text copy');
  ok(rows[5].startsWith('  Passerelle Minitel sur IP'));
  ok(rows[7].startsWith('  Bienvenue ! Tapez sur le clavier :'));
  ok(rows[8].startsWith('  chaque touche revient en écho.'));
  ok(rows[10].startsWith('  METEO puis Envoi (Entrée) :'));
  ok(rows[11].startsWith('  un autre service, par la passerelle.'));
  equal(rows[13], '  Connexion/Fin (Ctrl-S puis I) : retour');
  equal(rows[14], BLANK, 'the 38 columns fit: nothing wraps');
  const m = cell(s, 3, 3);
  equal(m.glyph, 'm');
  equal(m.fg, 6, 'cyan');
  equal(m.height, 2);
  equal(m.partY, 1);
  equal(cell(s, 2, 3).partY, 0);
  equal(cell(s, 2, 3).glyph, 'm');
  equal(cell(s, 5, 3).fg, 7, 'white');
  equal(cell(s, 5, 3).height, 1, 'US resets the size');
  equal(cell(s, 7, 3).fg, 3, 'yellow');
  equal(cell(s, 10, 3).fg, 2, 'green');
  equal(cell(s, 13, 3).fg, 5, 'magenta');
  equal(cell(s, 3, 3).bg, 0);
  same(s.cursor, { row: 16, col: 1, visible: true });
});

test('printing wraps at column 40, and past row 24 to row 1 in page mode', () => {
  const s = screenOf('\x1f\x58\x68XY');
  equal(at(s, 24, 40), 'X');
  equal(row(s, 1)[0], 'Y');
  same([s.cursor.row, s.cursor.col], [1, 2]);
});

test('BS: left; at column 1 to column 40 of the row above; row 1 to row 24', () => {
  let s = screenOf('AB\x08');
  equal(s.cursor.col, 2);
  s = screenOf('\x1f\x45\x41\x08');
  same([s.cursor.row, s.cursor.col], [4, 40]);
  s = screenOf('\x08');
  same([s.cursor.row, s.cursor.col], [24, 40]);
});

test('HT: right; at column 40 to column 1 of the next row', () => {
  let s = screenOf('\x09\x09');
  equal(s.cursor.col, 3);
  s = screenOf('\x1f\x45\x68\x09');
  same([s.cursor.row, s.cursor.col], [6, 1]);
});

test('LF, VT and CR', () => {
  let s = screenOf('ab\x0a\x0a\x0b');
  same([s.cursor.row, s.cursor.col], [2, 3]);
  s = screenOf('\x0b');
  same([s.cursor.row, s.cursor.col], [24, 1], 'VT on row 1, page mode');
  s = screenOf('\x1f\x58\x45\x0a');
  same([s.cursor.row, s.cursor.col], [1, 5], 'LF on row 24, page mode');
  s = screenOf('abc\x0dZ');
  equal(row(s, 1).slice(0, 3), 'Zbc');
});

test('FF clears rows 1..24, not row 0, homes and resets attributes', () => {
  const s = screenOf('\x1f\x40\x41STATUS\x0a\x1f\x4a\x4aText\x1b\x41\x0e\x0cA');
  equal(row(s, 0).slice(0, 6), 'STATUS');
  equal(row(s, 10), BLANK);
  equal(row(s, 1)[0], 'A');
  equal(cell(s, 1, 1).fg, 7, 'white again');
  equal(cell(s, 1, 1).set, 'G0', 'G0 again');
  same([s.cursor.row, s.cursor.col], [1, 2]);
});

test('RS homes, resets attributes, clears nothing', () => {
  const s = screenOf('\x1f\x45\x45abc\x1b\x42\x0e\x1eZ');
  equal(at(s, 5, 5).slice(0, 3), 'abc');
  equal(row(s, 1)[0], 'Z');
  equal(cell(s, 1, 1).fg, 7);
  equal(cell(s, 1, 1).set, 'G0');
});

test('CON and COF show and hide the cursor', () => {
  equal(screenOf('\x11').cursor.visible, true);
  equal(screenOf('\x11\x14').cursor.visible, false);
});

test('REP repeats the last character (N - 0x40) times', () => {
  let s = screenOf('A\x12\x43');
  equal(row(s, 1).slice(0, 5), 'AAAA ');
  s = screenOf('\x19\x42e\x12\x42');
  equal(row(s, 1).slice(0, 4), 'ééé ');
  s = screenOf('\x0e\x7f\x12\x41');
  equal(cell(s, 1, 2).code, 0x7f);
  equal(cell(s, 1, 2).set, 'G1');
  s = screenOf('\x12\x45');
  same([s.cursor.row, s.cursor.col], [1, 1], 'nothing printed yet: nothing repeated');
  s = screenOf('A\x12\x40');
  equal(s.cursor.col, 2, 'zero times');
});

test('CAN clears to the end of the row, the cursor stays', () => {
  const s = screenOf('abcdef\x0d\x09\x09\x18');
  equal(row(s, 1).slice(0, 6), 'ab    ');
  same([s.cursor.row, s.cursor.col], [1, 3]);
});

test('US row column positions and resets the attributes', () => {
  let s = screenOf('\x1b\x41\x1b\x4e\x1f\x45\x4aX');
  equal(at(s, 5, 10)[0], 'X');
  equal(cell(s, 5, 10).fg, 7);
  equal(cell(s, 5, 10).width, 1);
  s = screenOf('\x1f\x31\x32X');
  equal(row(s, 12)[0], 'X', 'US 0x31 0x32: row 12, column 1');
  s = screenOf('ab\x1f\x59\x41c\x1f\x45\x69d');
  equal(row(s, 1).slice(0, 4), 'abcd', 'outside the screen: ignored');
});

test('a C0 code inside a sequence abandons it and is obeyed', () => {
  const s = screenOf('abc\x1f\x45\x0dZ');
  equal(row(s, 1).slice(0, 3), 'Zbc');
});

test('row 0: entered by US 0x40 0x41, no wrap, LF returns to where the cursor was', () => {
  const s = screenOf('\x1f\x45\x47\x1b\x42ab\x1f\x40\x41' + 'S'.repeat(45) + '\x0acd');
  equal(row(s, 0), 'S'.repeat(40));
  equal(row(s, 1), BLANK, 'row 0 does not wrap into row 1');
  equal(at(s, 5, 7).slice(0, 4), 'abcd');
  equal(cell(s, 5, 9).fg, 2, 'attributes back as they were');
  same([s.cursor.row, s.cursor.col], [5, 11]);
});

test('row 0: VT, BS at column 1 and HT at column 40 stay in row 0', () => {
  let s = screenOf('\x1f\x40\x41\x0b\x08');
  same([s.cursor.row, s.cursor.col], [0, 1]);
  s = screenOf('\x1f\x40\x68\x09');
  same([s.cursor.row, s.cursor.col], [0, 40]);
});

test('NUL ignored everywhere, DEL ignored in G0, full block in G1', () => {
  let s = screenOf('a\x00b\x7fc\x1f\x00\x42\x43d');
  equal(at(s, 2, 3)[0], 'd');
  equal(row(s, 1).slice(0, 3), 'abc');
  s = screenOf('\x0e\x7f');
  equal(cell(s, 1, 1).code, 0x7f);
  equal(cell(s, 1, 1).set, 'G1');
  equal(row(s, 1)[0], ' ', 'mosaics are spaces in the text');
});

test('SEP and its byte draw nothing; BEL and SUB neither', () => {
  const s = screenOf('a\x13\x41b\x07\x1ac');
  equal(row(s, 1).slice(0, 4), 'abc ');
});

test('G2 specials', () => {
  const table = {
    0x23: '£', 0x24: '$', 0x26: '#', 0x27: '§', 0x2c: '←', 0x2d: '↑', 0x2e: '→', 0x2f: '↓',
    0x30: '°', 0x31: '±', 0x38: '÷', 0x3c: '¼', 0x3d: '½', 0x3e: '¾', 0x6a: 'Œ', 0x7a: 'œ', 0x7b: 'ß',
  };
  for (const [code, ch] of Object.entries(table)) {
    const s = screenOf('\x19' + String.fromCharCode(Number(code)));
    equal(row(s, 1)[0], ch, 'SS2 ' + Number(code).toString(16));
    equal(s.cursor.col, 2);
  }
});

test('G2 accents combine with the next letter', () => {
  const s = screenOf('\x19\x42e\x19\x41e\x19\x43e\x19\x48e\x19\x41a\x19\x43a\x19\x41u\x19\x43u' +
    '\x19\x48u\x19\x43i\x19\x48i\x19\x43o\x19\x48o\x19\x4bc\x19\x42E\x19\x4bC');
  equal(row(s, 1).slice(0, 16), 'éèêëàâùûüîïôöçÉÇ');
});

test('SS2 with an unknown code or a non-letter after an accent: nothing harmful', () => {
  let s = screenOf('a\x19\x50b\x19\x20c');
  equal(row(s, 1).slice(0, 4), 'abc ');
  s = screenOf('\x19\x421');
  equal(row(s, 1)[0], '1');
  s = screenOf('\x19\x42\x0dZ');
  equal(row(s, 1)[0], 'Z');
});

test('G1 mosaics: the six blocks, 0x40..0x5F as G0 letters', () => {
  same(MOSAIC_BITS, [[0x01, 0x02], [0x04, 0x08], [0x10, 0x40]]);
  const s = screenOf('\x0e\x21\x22\x24\x28\x30\x60\x20\x41\x0fz');
  const codes = [0x21, 0x22, 0x24, 0x28, 0x30, 0x60, 0x20];
  codes.forEach((code, i) => {
    equal(cell(s, 1, i + 1).code, code);
    equal(cell(s, 1, i + 1).set, 'G1');
  });
  equal(cell(s, 1, 8).set, 'G0', 'G1 0x41 is the letter A');
  equal(row(s, 1).slice(0, 9), '       Az');
});

test('separated mosaics: ESC 0x5A in G1, back to contiguous with ESC 0x59 or SO', () => {
  const s = screenOf('\x0e\x7f\x1b\x5a\x7f\x1b\x59\x7f\x1b\x5a\x0f\x0e\x7f');
  same([1, 2, 3, 4].map(c => cell(s, 1, c).separated), [false, true, false, false]);
});

test('colours: foreground at once; background at once for mosaics', () => {
  const s = screenOf('\x1b\x41a\x0e\x1b\x42\x1b\x53\x7f');
  equal(cell(s, 1, 1).fg, 1);
  equal(cell(s, 1, 2).fg, 2);
  equal(cell(s, 1, 2).bg, 3);
});

test('serial background in G0: effective from the next delimiter', () => {
  const s = screenOf('\x1b\x54AB CD');
  same([1, 2, 3, 4, 5].map(c => cell(s, 1, c).bg), [0, 0, 4, 4, 4]);
});

test('serial background waiting in G0 becomes effective at a mosaic', () => {
  const s = screenOf('\x1b\x52A\x0e\x7f');
  equal(cell(s, 1, 1).bg, 0);
  equal(cell(s, 1, 2).bg, 2);
});

test('inverse polarity in G0, ignored in G1', () => {
  const s = screenOf('\x1b\x5dA\x1b\x5cB\x0e\x1b\x5d\x7f');
  same([1, 2, 3].map(c => cell(s, 1, c).invert), [true, false, false]);
});

test('conceal: concealed text is spaces in the copy; reveal', () => {
  const s = screenOf('a\x1b\x58 secret\x1b\x5f visible');
  equal(row(s, 1).slice(0, 16), 'a        visible');
  ok(cell(s, 1, 3).conceal);
  equal(cell(s, 1, 3).glyph, 's');
  ok(!cell(s, 1, 11).conceal);
});

test('blink and steady, underline (serial) in G0', () => {
  const s = screenOf('\x1b\x48a\x1b\x49b\x1b\x5ac d\x1b\x59 e');
  same([1, 2].map(c => cell(s, 1, c).blink), [true, false]);
  same([3, 4, 5, 7].map(c => cell(s, 1, c).underline), [false, true, true, false]);
});

test('double width: two columns, cursor advances by 2', () => {
  const s = screenOf('\x1b\x4eAB');
  equal(row(s, 1).slice(0, 5), 'A B  ');
  same([cell(s, 1, 1).partX, cell(s, 1, 2).partX], [0, 1]);
  equal(cell(s, 1, 2).glyph, 'A');
  equal(s.cursor.col, 5);
});

test('double size: four cells, the text on the cursor row', () => {
  const s = screenOf('\x1f\x45\x41\x1b\x4fX');
  equal(row(s, 4), BLANK);
  equal(row(s, 5).slice(0, 2), 'X ');
  for (const [r, c, px, py] of [[4, 1, 0, 0], [4, 2, 1, 0], [5, 1, 0, 1], [5, 2, 1, 1]]) {
    equal(cell(s, r, c).partX, px);
    equal(cell(s, r, c).partY, py);
    equal(cell(s, r, c).glyph, 'X');
  }
  equal(s.cursor.col, 3);
});

test('double height refused on row 1 and in row 0, and in G1', () => {
  let s = screenOf('\x1b\x4dA');
  equal(cell(s, 1, 1).height, 1);
  s = screenOf('\x1f\x40\x41\x1b\x4fA');
  equal(cell(s, 0, 1).height, 1);
  equal(cell(s, 0, 1).width, 1);
  s = screenOf('\x1f\x45\x41\x0e\x1b\x4f\x7f');
  equal(cell(s, 5, 1).height, 1);
  equal(s.cursor.col, 2);
});

test('CSI cursor moves: A B C D, with and without a count, bounded', () => {
  const s = new VideotexScreen();
  s.write(bytes('\x1f\x4a\x4a\x1b[A'));
  same([s.cursor.row, s.cursor.col], [9, 10]);
  s.write(bytes('\x1b[3B'));
  equal(s.cursor.row, 12);
  s.write(bytes('\x1b[5C'));
  equal(s.cursor.col, 15);
  s.write(bytes('\x1b[2D'));
  equal(s.cursor.col, 13);
  s.write(bytes('\x1b[99A\x1b[99D'));
  same([s.cursor.row, s.cursor.col], [1, 1]);
  s.write(bytes('\x1b[99B\x1b[99C'));
  same([s.cursor.row, s.cursor.col], [24, 40]);
  s.write(bytes('\x1b[12;30H'));
  same([s.cursor.row, s.cursor.col], [12, 30]);
  s.write(bytes('\x1b[H'));
  same([s.cursor.row, s.cursor.col], [1, 1]);
});

function filled () {
  let s = '';
  for (let r = 1; r <= 24; r++)
    s += '\x1f' + String.fromCharCode(0x40 + r) + '\x41' + String.fromCharCode(0x40 + r).repeat(40);
  return s + '\x1f\x45\x4b';    // row 5, column 11
}

test('CSI J: erase in display 0, 1, 2', () => {
  let s = screenOf(filled() + '\x1b[J');
  equal(row(s, 5), 'E'.repeat(10) + ' '.repeat(30));
  equal(row(s, 6), BLANK);
  equal(row(s, 4), 'D'.repeat(40));
  s = screenOf(filled() + '\x1b[0J');
  equal(row(s, 24), BLANK);
  s = screenOf(filled() + '\x1b[1J');
  equal(row(s, 4), BLANK);
  equal(row(s, 5), ' '.repeat(11) + 'E'.repeat(29));
  equal(row(s, 6), 'F'.repeat(40));
  s = screenOf('\x1f\x40\x41ST\x0a' + filled() + '\x1b[2J');
  ok(s.textRows().slice(1).every(r => r === BLANK));
  equal(row(s, 0).slice(0, 2), 'ST', 'row 0 kept');
  same([s.cursor.row, s.cursor.col], [5, 11], 'the cursor stays');
});

test('CSI K: erase in row 0, 1, 2', () => {
  let s = screenOf(filled() + '\x1b[K');
  equal(row(s, 5), 'E'.repeat(10) + ' '.repeat(30));
  s = screenOf(filled() + '\x1b[1K');
  equal(row(s, 5), ' '.repeat(11) + 'E'.repeat(29));
  s = screenOf(filled() + '\x1b[2K');
  equal(row(s, 5), BLANK);
  equal(row(s, 6), 'F'.repeat(40));
});

test('CSI P and @: delete and insert characters', () => {
  let s = screenOf('abcdefgh\x0d\x09\x09\x1b[2P');
  equal(row(s, 1).slice(0, 8), 'abefgh  ');
  s = screenOf('abcdef\x0d\x09\x1b[3@');
  equal(row(s, 1).slice(0, 9), 'a   bcdef');
  s = screenOf('\x1f\x41\x68Z\x1f\x41\x41\x1b[@');
  equal(row(s, 1)[39], ' ', 'the last column pushed out');
});

test('CSI L and M: insert and delete rows', () => {
  let s = screenOf(filled() + '\x1b[2L');
  equal(row(s, 5), BLANK);
  equal(row(s, 6), BLANK);
  equal(row(s, 7), 'E'.repeat(40));
  equal(row(s, 24), 'V'.repeat(40));
  s = screenOf(filled() + '\x1b[M');
  equal(row(s, 5), 'F'.repeat(40));
  equal(row(s, 24), BLANK);
  equal(row(s, 4), 'D'.repeat(40));
});

test('CSI 4 h and 4 l: insert mode', () => {
  const s = screenOf('abc\x0d\x1b[4hXY\x1b[4lZ');
  equal(row(s, 1).slice(0, 6), 'XYZbc ', 'X and Y inserted, Z written over a');
});

test('unknown CSI consumed up to its final byte, a long one bounded', () => {
  let s = screenOf('\x1b[?25hA\x1b[1;2;3;4zB');
  equal(row(s, 1).slice(0, 3), 'AB ');
  s = screenOf('\x1b[' + '1'.repeat(100) + 'C');
  ok(s.state === 0, 'back to normal');
  ok(s.params.length <= 16);
});

test('ISO 2022 ESC sequences consumed: ESC 0x23 0x20 0x58, ESC 0x28 0x40', () => {
  const s = screenOf('\x1b\x23\x20\x58A\x1b\x28\x40B\x1b\x25\x41C\x1b\x7eD');
  equal(row(s, 1).slice(0, 5), 'ABCD ');
});

test('PRO1, PRO2, PRO3 consumed whole', () => {
  const s = screenOf('\x1b\x39\x70A\x1b\x3a\x6b\x52B\x1b\x3b\x60\x58\x52C');
  equal(row(s, 1).slice(0, 4), 'ABC ');
});

test('scroll mode: PRO2 START ROULEAU scrolls up at row 24, STOP back to page mode', () => {
  let s = screenOf('\x1b\x3a\x69\x43\x1f\x41\x41top\x1f\x58\x41bottom\x0a');
  ok(s.scroll);
  equal(row(s, 23).slice(0, 6), 'bottom');
  equal(row(s, 24), BLANK);
  equal(row(s, 1), BLANK, 'row 1 scrolled away');
  same([s.cursor.row, s.cursor.col], [24, 7]);
  s = screenOf('\x1b\x3a\x69\x43\x1b\x3a\x6a\x43\x1f\x58\x41x\x0a');
  ok(!s.scroll);
  equal(s.cursor.row, 1);
  s = screenOf('\x1b\x3a\x69\x43\x1f\x40\x41S\x0a\x1f\x41\x41top\x0b');
  equal(row(s, 2).slice(0, 3), 'top', 'VT on row 1 scrolls down');
  equal(row(s, 0)[0], 'S', 'row 0 does not scroll');
});

test('ENQROM: the ROM identity of a Minitel 1B', () => {
  same(Array.from(ROM_IDENTITY), [0x01, 0x43, 0x75, 0x3b, 0x04]);
  const sent = [];
  screenOf('\x1b\x39\x7b', sent);
  same(sent, [[0x01, 0x43, 0x75, 0x3b, 0x04]]);
  const split = [];
  const s = new VideotexScreen({ send: b => split.push(Array.from(b)) });
  for (const b of [0x1b, 0x39, 0x7b])
    s.write(Uint8Array.of(b));
  same(split, [[0x01, 0x43, 0x75, 0x3b, 0x04]], 'byte by byte');
  equal(row(s, 1), BLANK);
});

test('ESC 0x61: the cursor position answered US row column', () => {
  const sent = [];
  screenOf('\x1f\x45\x4a\x1b\x61', sent);
  same(sent, [[0x1f, 0x45, 0x4a]]);
});

test('bytes with the parity bit set are read as 7-bit', () => {
  const s = screenOf('\xc1\x8d\xc2');
  equal(row(s, 1).slice(0, 2), 'B ');
});

test('onChange once per write that changed the screen; version and dirty', () => {
  let calls = 0;
  const s = new VideotexScreen({ onChange: () => calls++ });
  s.dirty = false;
  const v = s.version;
  s.write(bytes('hello'));
  equal(calls, 1);
  ok(s.dirty);
  ok(s.version > v);
  s.write(bytes('\x00\x00'));
  equal(calls, 1, 'nothing changed');
});

const MIX = DEMO + '\x0e\x1b\x54\x7f\x12\x50\x1b\x5a\x35\x0f\x1b\x4fXY\x1b[3;4H\x1b[2P\x19\x4bc' +
  '\x1f\x40\x41\x1b\x43ST\x0a\x1b\x3a\x69\x43\x1f\x58\x41end\x0a\x0a\x1b\x39\x7b\x1b\x23\x20\x58z';

function snapshot (s) {
  return JSON.stringify({ rows: s.rows, cursor: s.cursor, text: s.textRows() });
}

test('any split of the input gives the same screen', () => {
  const whole = [];
  const a = screenOf(MIX, whole);
  const input = bytes(MIX);
  const bytewise = [];
  const b = new VideotexScreen({ send: x => bytewise.push(Array.from(x)) });
  for (const x of input)
    b.write(Uint8Array.of(x));
  equal(snapshot(b), snapshot(a), 'byte by byte');
  same(bytewise, whole);
  for (let cut = 1; cut < input.length; cut += 7) {
    const c = new VideotexScreen();
    c.write(input.subarray(0, cut));
    c.write(input.subarray(cut));
    equal(snapshot(c), snapshot(a), 'cut at ' + cut);
  }
});

/* xorshift32: a deterministic PRNG for the fuzz. */
function prng (seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

test('fuzz: 200 rounds of 4 KiB of random bytes', () => {
  const next = prng(0x4d696e69);
  for (let round = 0; round < 200; round++) {
    const s = new VideotexScreen({ send: () => {} });
    const data = new Uint8Array(4096);
    for (let i = 0; i < data.length; i++) {
      const r = next();
      /* Half of the bytes among the codes that open sequences. */
      data[i] = r & 0x100 ? [0x1b, 0x1f, 0x12, 0x13, 0x19, 0x0e, 0x0f, 0x5b, 0x3a, 0x39, 0x7b][r % 11] : r & 0xff;
    }
    let pos = 0;
    while (pos < data.length) {
      const n = 1 + (next() % 64);
      s.write(data.subarray(pos, pos + n));
      pos += n;
      const c = s.cursor;
      ok(c.row >= 0 && c.row <= 24 && c.col >= 1 && c.col <= 40,
        `round ${round}: cursor out of the screen ${JSON.stringify(c)}`);
    }
    const rows = s.textRows();
    ok(rows.length === 25 && rows.every(r => r.length === 40), `round ${round}: text copy 25 × 40`);
    ok(s.rows.length === 25 && s.rows.every(r => r.length === 40), `round ${round}: cells 25 × 40`);
    ok(s.params.length <= 16, `round ${round}: bounded parameters`);
    /* The automaton comes back to normal: a C0 ends any sequence. */
    s.write(bytes('\x0c\x1f\x41\x41OK'));
    equal(row(s, 1).slice(0, 2), 'OK', `round ${round}: back to normal`);
  }
});

run();
