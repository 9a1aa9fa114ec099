// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * videotex.mjs: the Minitel's videotex decoder and screen model, after the
 * STUM 1B (Spécifications Techniques d'Utilisation du Minitel 1B).
 * No DOM here: the same module runs in the browser and in Node.
 *
 * The screen: row 0 (the status row, "rangée 0") and rows 1..24, each of
 * 40 columns. Rows and columns are the Minitel's: rows 0..24, columns
 * 1..40 in the cursor; the cell arrays are 0-based (rows[r][c - 1]).
 *
 * Departures from a real Minitel 1B, all deliberate simplifications:
 * - serial attributes (background colour, conceal, underline in G0) are
 *   taken by the cells written after the delimiter that made them
 *   effective, not re-applied to a zone when a delimiter is overwritten;
 * - no DRCS (redefined characters: Minitel 2), no 80-column (Mixte) or
 *   Téléinformatique mode, no keyboard/modem routing (PRO3).
 */

/* C0 control codes (STUM 1B, "jeu C0"). */
export const NUL = 0x00;
export const BEL = 0x07;
export const BS = 0x08;   // cursor left
export const HT = 0x09;   // cursor right
export const LF = 0x0a;   // cursor down
export const VT = 0x0b;   // cursor up
export const FF = 0x0c;   // clear screen, home
export const CR = 0x0d;   // column 1
export const SO = 0x0e;   // G1 (mosaic) set
export const SI = 0x0f;   // G0 (alphanumeric) set
export const CON = 0x11;  // DC1: cursor on
export const REP = 0x12;  // DC2: repeat the last character
export const SEP = 0x13;  // DC3: separator (function keys, statuses)
export const COF = 0x14;  // DC4: cursor off
export const CAN = 0x18;  // clear to the end of the row
export const SS2 = 0x19;  // next character from G2
export const SUB = 0x1a;  // substitute (shown as an error mark: ignored here)
export const ESC = 0x1b;
export const RS = 0x1e;   // home
export const US = 0x1f;   // position: US row column
export const DEL = 0x7f;

/* ESC sequences opening a protocol message (STUM 1B, "protocole"). */
export const PRO1 = 0x39;
export const PRO2 = 0x3a;
export const PRO3 = 0x3b;
export const CSI = 0x5b;     // ESC [
/* PRO1 ENQROM: the server asks the terminal's ROM identity. */
export const ENQROM = 0x7b;
/* PRO2 START / STOP, with ROULEAU (scroll mode). */
export const START = 0x69;
export const STOP = 0x6a;
export const ROULEAU = 0x43;
/* ESC 0x61: the cursor position asked, answered US row column. */
export const ENQ_CURSOR = 0x61;

/*
 * The ROM identity a Minitel answers to ENQROM: SOH, manufacturer,
 * terminal type, software version, EOT. 'C' is Telic-Alcatel and 'u'
 * the Minitel 1B in the STUM's identification table (as listed in
 * PyMinitel's minitel/constantes.py, CONSTRUCTEURS and TYPE_MINITELS);
 * a Telic-Alcatel Terminatel 258 was reported on forum.museeminitel.fr
 * answering 01 43 76 31 04 ('C', 'v' = Minitel 2, version '1'). The
 * version character here, ';', is a plausible one, not a documented one.
 */
export const ROM_IDENTITY = Uint8Array.of(0x01, 0x43, 0x75, 0x3b, 0x04);

export const COLS = 40;
export const ROWS = 25;          // row 0 and rows 1..24
export const LAST_ROW = 24;

/* Colours: the videotex colour codes (ESC 0x40 + code, ESC 0x50 + code). */
export const BLACK = 0;
export const RED = 1;
export const GREEN = 2;
export const YELLOW = 3;
export const BLUE = 4;
export const MAGENTA = 5;
export const CYAN = 6;
export const WHITE = 7;

/*
 * G2 (SS2 + code): the characters a Minitel 1B draws from the ISO 6937
 * supplementary set. The accents are non-spacing: they combine with the
 * letter that follows.
 */
export const G2_CHARS = new Map([
  [0x23, '£'], [0x24, '$'], [0x26, '#'], [0x27, '§'],
  [0x2c, '←'], [0x2d, '↑'], [0x2e, '→'], [0x2f, '↓'],
  [0x30, '°'], [0x31, '±'], [0x38, '÷'],
  [0x3c, '¼'], [0x3d, '½'], [0x3e, '¾'],
  [0x6a, 'Œ'], [0x7a, 'œ'], [0x7b, 'ß'],
]);
/* G2 non-spacing diacritics, as Unicode combining marks. */
export const G2_ACCENTS = new Map([
  [0x41, '\u0300'],  // grave
  [0x42, '\u0301'],  // acute
  [0x43, '\u0302'],  // circumflex
  [0x48, '\u0308'],  // diaeresis
  [0x4b, '\u0327'],  // cedilla
]);

/*
 * G1 mosaics: a cell of 2 × 3 blocks; bit of each block in the code
 * (0x20 is always set; 0x40 is the bottom-right block, hence the codes
 * 0x20..0x3F and 0x60..0x7F). Index: [row][column] of the block.
 */
export const MOSAIC_BITS = [
  [0x01, 0x02],   // top: left, right
  [0x04, 0x08],   // middle
  [0x10, 0x40],   // bottom
];

/* Is a G1 code a mosaic (not one of the G0 letters G1 shows at 0x40..0x5F)? */
export function isMosaicCode (code) {
  return (code >= 0x20 && code <= 0x3f) || (code >= 0x60 && code <= 0x7f);
}

/* The default attributes, after FF, RS, US and at power-up. */
function defaultAttributes () {
  return {
    fg: WHITE,
    bg: BLACK,
    blink: false,
    invert: false,     // ESC 0x5D: inverse polarity (G0 only)
    width: 1,
    height: 1,
    underline: false,  // G0
    conceal: false,
    separated: false,  // G1: disjoint mosaics (ESC 0x5A)
  };
}

/*
 * A cell of the screen. `char` is what the text copy shows (a space for
 * mosaics, for concealed text and for the parts of a double-size
 * character other than its bottom-left one); `glyph` the character
 * drawn (all its parts); `code` the byte received (a mosaic's code in G1;
 * for G2 and accented letters, glyph is the Unicode character). A
 * character of double width or height covers `width` × `height` cells;
 * `partX` (0 left, 1 right) and `partY` (0 top, 1 bottom) say which part
 * of it this cell shows.
 */
export function blankCell (bg = BLACK) {
  return {
    char: ' ', glyph: ' ', code: 0x20, set: 'G0',
    fg: WHITE, bg, blink: false, invert: false, underline: false,
    conceal: false, separated: false,
    width: 1, height: 1, partX: 0, partY: 0,
  };
}

function blankRow () {
  const row = new Array(COLS);
  for (let c = 0; c < COLS; c++)
    row[c] = blankCell();
  return row;
}

/* Decoder states. */
const S_NORMAL = 0;
const S_ESC = 1;          // after ESC
const S_ESC_ISO = 2;      // ESC, intermediates 0x20..0x2F, waiting a final
const S_PRO = 3;          // ESC PRO1/PRO2/PRO3, collecting its parameters
const S_CSI = 4;          // ESC [, collecting parameters up to a final
const S_US = 5;           // US, collecting row and column
const S_REP = 6;          // REP, waiting the count
const S_SEP = 7;          // SEP, waiting its byte
const S_SS2 = 8;          // SS2, waiting the G2 code
const S_ACCENT = 9;       // SS2 accent, waiting the letter

const CSI_MAX = 16;       // parameter bytes kept; a longer CSI is dropped
const ISO_MAX = 4;        // intermediate bytes of an ESC sequence

export class VideotexScreen {
  /*
   * options.send(Uint8Array): answers to the server (ENQROM, the cursor
   * position). options.onChange(): called when the screen changed (after
   * the write() that changed it).
   */
  constructor (options = {}) {
    this.send = options.send || (() => {});
    this.onChange = options.onChange || null;
    /* Incremented at every change; `dirty` set until the renderer clears it. */
    this.version = 0;
    this.dirty = true;
    this.reset();
  }

  /* Power-up: cleared screen and row 0, default state. */
  reset () {
    this.rows = [];
    for (let r = 0; r < ROWS; r++)
      this.rows.push(blankRow());
    this.cursor = { row: 1, col: 1, visible: false };
    this.attr = defaultAttributes();
    this.pending = {};        // serial attributes waiting for a delimiter (G0)
    this.g1 = false;          // SO / SI
    this.scroll = false;      // PRO2 START/STOP ROULEAU: scroll or page mode
    this.insert = false;      // CSI 4 h / 4 l
    this.last = null;         // the last printed character, for REP
    this.saved = null;        // state before entering row 0
    this.state = S_NORMAL;
    this.params = [];
    this.paramCount = 0;
    this.seqLength = 0;
    this.accent = '';
    this.changed();
  }

  changed () {
    this.version++;
    this.dirty = true;
  }

  /* Feed bytes from the server; any byte sequence, split anywhere. */
  write (bytes) {
    const version = this.version;
    for (let i = 0; i < bytes.length; i++)
      this.feed(bytes[i] & 0xff);
    if (this.version !== version && this.onChange)
      this.onChange();
  }

  /* The text copy: 25 strings (row 0 first) of exactly 40 characters. */
  textRows () {
    return this.rows.map(row => row.map(cell => cell.char).join(''));
  }

  /* ---------------- the automaton ---------------- */

  feed (b) {
    b &= 0x7f;          // 7-bit videotex: the parity bit is not data
    if (b === NUL)
      return;           // NUL is ignored wherever it comes
    if (this.state !== S_NORMAL && b < 0x20) {
      /* A C0 code inside a sequence abandons it and is obeyed. */
      this.state = S_NORMAL;
    }
    switch (this.state) {
      case S_NORMAL: this.normal(b); break;
      case S_ESC: this.escape(b); break;
      case S_ESC_ISO: this.escapeIso(b); break;
      case S_PRO: this.protocol(b); break;
      case S_CSI: this.csi(b); break;
      case S_US: this.position(b); break;
      case S_REP: this.state = S_NORMAL; this.repeat(b); break;
      case S_SEP: this.state = S_NORMAL; break;   // SEP x: nothing to draw
      case S_SS2: this.state = S_NORMAL; this.g2(b); break;
      case S_ACCENT: this.state = S_NORMAL; this.accented(b); break;
      default: this.state = S_NORMAL;
    }
  }

  normal (b) {
    if (b >= 0x20) {
      this.printCode(b);
      return;
    }
    switch (b) {
      case BS: this.left(); break;
      case HT: this.right(); break;
      case LF: this.down(); break;
      case VT: this.up(); break;
      case FF: this.clearScreen(); break;
      case CR: this.cursor.col = 1; this.changed(); break;
      case SO: this.selectG1(); break;
      case SI: this.selectG0(); break;
      case CON: this.cursor.visible = true; this.changed(); break;
      case COF: this.cursor.visible = false; this.changed(); break;
      case REP: this.state = S_REP; break;
      case SEP: this.state = S_SEP; break;
      case CAN: this.clearToEndOfRow(); break;
      case SS2: this.state = S_SS2; break;
      case ESC: this.state = S_ESC; break;
      case RS: this.home(); break;
      case US: this.state = S_US; this.params = []; break;
      default: break;   // BEL, SUB, other C0 codes: nothing on screen
    }
  }

  /* ESC x: attributes (0x40..0x5F), protocol, CSI, ISO 2022 sequences. */
  escape (b) {
    this.state = S_NORMAL;
    if (b >= 0x40 && b <= 0x47) {
      this.attr.fg = b - 0x40;         // character colour
    } else if (b >= 0x50 && b <= 0x57) {
      this.setBackground(b - 0x50);    // background colour (serial in G0)
    } else {
      switch (b) {
        case 0x48: this.attr.blink = true; break;        // clignotement
        case 0x49: this.attr.blink = false; break;       // fixe
        case 0x4c: this.setSize(1, 1); break;            // grandeur normale
        case 0x4d: this.setSize(1, 2); break;            // double hauteur
        case 0x4e: this.setSize(2, 1); break;            // double largeur
        case 0x4f: this.setSize(2, 2); break;            // double grandeur
        case 0x58: this.setSerial('conceal', true); break;   // masquage
        case 0x5f: this.setSerial('conceal', false); break;  // démasquage
        case 0x59:                                       // fin de lignage
          if (this.g1) this.attr.separated = false;      // mosaïque jointive
          else this.setSerial('underline', false);
          break;
        case 0x5a:                                       // début de lignage
          if (this.g1) this.attr.separated = true;       // mosaïque disjointe
          else this.setSerial('underline', true);
          break;
        case 0x5c: if (!this.g1) this.attr.invert = false; break;  // fond normal
        case 0x5d: if (!this.g1) this.attr.invert = true; break;   // inversion
        case PRO1: case PRO2: case PRO3:
          this.state = S_PRO;
          this.params = [b];
          this.paramCount = b - PRO1 + 1;
          break;
        case CSI:
          this.state = S_CSI;
          this.params = [];
          this.seqLength = 0;
          break;
        case ENQ_CURSOR:
          this.send(Uint8Array.of(US, 0x40 + this.cursor.row, 0x40 + this.cursor.col));
          break;
        default:
          if (b >= 0x20 && b <= 0x2f) {
            /* ISO 2022: intermediates, then one final byte (e.g. ESC 0x23
             * 0x20 0x58, masking of the whole screen; ESC 0x28 0x40, G0
             * designation): consumed, ignored. */
            this.state = S_ESC_ISO;
            this.seqLength = 1;
          }
          /* Any other final byte: ignored. */
      }
    }
  }

  escapeIso (b) {
    if (b >= 0x20 && b <= 0x2f && ++this.seqLength <= ISO_MAX)
      return;           // another intermediate byte
    this.state = S_NORMAL;  // the final byte (or too long a sequence): done
  }

  /* PRO1 x, PRO2 x y, PRO3 x y z. */
  protocol (b) {
    this.params.push(b);
    if (this.params.length <= this.paramCount)
      return;
    this.state = S_NORMAL;
    const [pro, x, y] = this.params;
    if (pro === PRO1 && x === ENQROM) {
      this.send(ROM_IDENTITY.slice());
    } else if (pro === PRO2 && y === ROULEAU && (x === START || x === STOP)) {
      this.scroll = x === START;
      this.changed();
    }
    /* Every other protocol message: consumed, ignored. */
  }

  /* ESC [ parameters final: the ANSI subset the Minitel 1B obeys. */
  csi (b) {
    if (b >= 0x40 && b <= 0x7e) {
      this.state = S_NORMAL;
      this.csiFinal(b);
      return;
    }
    if (++this.seqLength > CSI_MAX) {
      this.state = S_NORMAL;   // too long: dropped, the rest printed
      return;
    }
    this.params.push(b);
  }

  csiFinal (final) {
    const text = String.fromCharCode(...this.params);
    if (!/^[0-9;]*$/.test(text))
      return;                 // private or intermediate bytes: unknown
    const args = text === '' ? [] : text.split(';').map(s => (s === '' ? NaN : Number(s)));
    const n = Number.isFinite(args[0]) && args[0] > 0 ? Math.min(args[0], 99) : 1;
    const p0 = Number.isFinite(args[0]) ? args[0] : 0;
    const c = this.cursor;
    if (final === 0x68 || final === 0x6c) {       // h / l: set / reset mode
      if (text === '4')
        this.insert = final === 0x68;              // insert mode
      return;
    }
    if (c.row === 0)
      return;                 // CSI has no effect in row 0
    switch (final) {
      case 0x41: c.row = Math.max(1, c.row - n); break;        // A: up
      case 0x42: c.row = Math.min(LAST_ROW, c.row + n); break; // B: down
      case 0x43: c.col = Math.min(COLS, c.col + n); break;     // C: right
      case 0x44: c.col = Math.max(1, c.col - n); break;        // D: left
      case 0x48: {                                             // H: position
        const r = Number.isFinite(args[0]) && args[0] > 0 ? args[0] : 1;
        const col = Number.isFinite(args[1]) && args[1] > 0 ? args[1] : 1;
        c.row = Math.min(LAST_ROW, r);
        c.col = Math.min(COLS, col);
        break;
      }
      case 0x4a: this.eraseInDisplay(p0); break;               // J
      case 0x4b: this.eraseInRow(p0); break;                   // K
      case 0x50: this.deleteChars(n); break;                   // P
      case 0x40: this.insertChars(n); break;                   // @
      case 0x4c: this.insertRows(n); break;                    // L
      case 0x4d: this.deleteRows(n); break;                    // M
      default: return;        // unknown final: ignored
    }
    this.changed();
  }

  /* US row column; also the old form US 0x3X 0x3Y: column 1 of row XY. */
  position (b) {
    this.params.push(b);
    if (this.params.length < 2)
      return;
    this.state = S_NORMAL;
    const [y, x] = this.params;
    let row; let col;
    if (y >= 0x30 && y <= 0x32 && x >= 0x30 && x <= 0x39) {
      /* Two decimal digits of the row, column 1 (the form MiEdit's
       * decoder documents as old but obeyed by every Minitel). */
      row = (y - 0x30) * 10 + (x - 0x30);
      col = 1;
    } else {
      row = y - 0x40;
      col = x - 0x40;
    }
    if (row < 0 || row > LAST_ROW || col < 1 || col > COLS)
      return;                 // outside the screen: ignored
    this.moveTo(row, col);
  }

  /* Absolute positioning (US): attributes back to default. */
  moveTo (row, col) {
    if (row === 0 && this.cursor.row !== 0)
      this.saveState();
    else if (row !== 0)
      this.saved = null;
    this.cursor.row = row;
    this.cursor.col = col;
    this.resetAttributes();
    this.changed();
  }

  saveState () {
    this.saved = {
      row: this.cursor.row, col: this.cursor.col,
      attr: { ...this.attr }, pending: { ...this.pending }, g1: this.g1,
    };
  }

  /* Leaving row 0 by a move down: back where the cursor was. */
  leaveRow0 () {
    const s = this.saved || { row: 1, col: 1, attr: defaultAttributes(), pending: {}, g1: false };
    this.cursor.row = s.row;
    this.cursor.col = s.col;
    this.attr = { ...s.attr };
    this.pending = { ...s.pending };
    this.g1 = s.g1;
    this.saved = null;
  }

  resetAttributes () {
    this.attr = defaultAttributes();
    this.pending = {};
    this.g1 = false;
  }

  /* ---------------- attributes ---------------- */

  setBackground (colour) {
    if (this.g1)
      this.attr.bg = colour;       // mosaics: at once
    else
      this.pending.bg = colour;    // G0: at the next delimiter
  }

  setSerial (name, value) {
    if (this.g1)
      this.attr[name] = value;
    else
      this.pending[name] = value;
  }

  /* Delimiter (a G0 space, a mosaic): the serial attributes take effect. */
  applyPending () {
    const p = this.pending;
    if (p.bg !== undefined) this.attr.bg = p.bg;
    if (p.conceal !== undefined) this.attr.conceal = p.conceal;
    if (p.underline !== undefined) this.attr.underline = p.underline;
    this.pending = {};
  }

  /* Size applies to G0 only; double height is refused in rows 0 and 1. */
  setSize (width, height) {
    if (this.g1 || this.cursor.row === 0)
      return;
    if (height === 2 && this.cursor.row === 1)
      return;
    this.attr.width = width;
    this.attr.height = height;
  }

  /* SO: mosaics; size and polarity back to normal, contiguous mosaics. */
  selectG1 () {
    if (this.g1)
      return;
    this.g1 = true;
    this.attr.width = 1;
    this.attr.height = 1;
    this.attr.invert = false;
    this.attr.separated = false;
    this.applyPending();
    this.attr.underline = false;
  }

  selectG0 () {
    if (!this.g1)
      return;
    this.g1 = false;
    this.attr.separated = false;
  }

  /* ---------------- printing ---------------- */

  /* A code 0x20..0x7F of the current set. */
  printCode (b) {
    if (this.g1) {
      if (isMosaicCode(b))
        this.print({ set: 'G1', code: b, char: ' ' });
      else
        this.print({ set: 'G0', code: b, char: String.fromCharCode(b), inG1: true });
    } else {
      if (b === DEL)
        return;               // DEL is not drawn in G0
      this.print({ set: 'G0', code: b, char: String.fromCharCode(b) });
    }
  }

  g2 (b) {
    if (this.g1)
      return;                 // G2 is reached from G0 only
    if (G2_ACCENTS.has(b)) {
      this.accent = G2_ACCENTS.get(b);
      this.state = S_ACCENT;
      return;
    }
    const ch = G2_CHARS.get(b);
    if (ch !== undefined)
      this.print({ set: 'G0', code: b, char: ch, g2: true });
    /* An unknown G2 code draws nothing. */
  }

  /* The letter after an accent: the precomposed letter when one exists. */
  accented (b) {
    if (b < 0x20 || b === DEL)
      return;
    const letter = String.fromCharCode(b);
    let ch = letter;
    if (/[A-Za-z]/.test(letter)) {
      const composed = (letter + this.accent).normalize('NFC');
      if (composed.length === 1)
        ch = composed;
    }
    this.print({ set: 'G0', code: b, char: ch });
  }

  /* REP count: the last printed character (count - 0x40) more times. */
  repeat (b) {
    const count = b - 0x40;
    if (count <= 0 || this.last === null)
      return;
    const glyph = this.last;
    for (let i = 0; i < count; i++)
      this.print(glyph);
  }

  print (glyph) {
    const c = this.cursor;
    const a = this.attr;
    const mosaic = glyph.set === 'G1';
    const delimiter = mosaic || (glyph.code === 0x20 && !glyph.g2 && !this.g1);
    if (delimiter)
      this.applyPending();
    let width = mosaic || glyph.inG1 ? 1 : a.width;
    let height = mosaic || glyph.inG1 ? 1 : a.height;
    if (c.row <= 1)
      height = 1;             // no double height in rows 0 and 1
    if (this.insert)
      this.insertChars(width);
    const show = !mosaic && !a.conceal;
    for (let dy = 0; dy < height; dy++) {
      for (let dx = 0; dx < width; dx++) {
        const row = c.row - (height - 1) + dy;
        const col = c.col + dx;
        if (col > COLS || row < 0)
          continue;
        this.rows[row][col - 1] = {
          char: show && dx === 0 && dy === height - 1 ? glyph.char : ' ',
          glyph: glyph.char,
          code: glyph.code,
          set: glyph.set,
          fg: a.fg,
          bg: a.bg,
          blink: a.blink,
          invert: mosaic ? false : a.invert,
          underline: mosaic ? false : a.underline,
          conceal: a.conceal,
          separated: mosaic ? a.separated : false,
          width, height, partX: dx, partY: height === 2 ? dy : 0,
        };
      }
    }
    this.last = glyph;
    this.changed();
    this.advance(width, height);
  }

  /* After a character: right by its width; past column 40, the next row. */
  advance (width, height) {
    const c = this.cursor;
    c.col += width;
    if (c.col <= COLS)
      return;
    if (c.row === 0) {
      c.col = COLS;           // row 0 does not wrap
      return;
    }
    c.col = 1;
    for (let i = 0; i < height; i++)
      this.down();
  }

  /* ---------------- cursor moves ---------------- */

  left () {
    const c = this.cursor;
    if (c.col > 1) {
      c.col--;
    } else if (c.row !== 0) {
      c.col = COLS;
      this.up();
    }
    this.changed();
  }

  right () {
    const c = this.cursor;
    if (c.col < COLS) {
      c.col++;
    } else if (c.row !== 0) {
      c.col = 1;
      this.down();
    }
    this.changed();
  }

  down () {
    const c = this.cursor;
    if (c.row === 0) {
      this.leaveRow0();
    } else if (c.row < LAST_ROW) {
      c.row++;
    } else if (this.scroll) {
      this.scrollUp();
    } else {
      c.row = 1;              // page mode: back to the top
    }
    this.changed();
  }

  up () {
    const c = this.cursor;
    if (c.row === 0) {
      return;
    } else if (c.row > 1) {
      c.row--;
    } else if (this.scroll) {
      this.scrollDown();
    } else {
      c.row = LAST_ROW;       // page mode: to the bottom
    }
    this.changed();
  }

  home () {
    this.cursor.row = 1;
    this.cursor.col = 1;
    this.saved = null;
    this.resetAttributes();
    this.changed();
  }

  /* FF: rows 1..24 cleared (not row 0), home, default attributes. */
  clearScreen () {
    for (let r = 1; r <= LAST_ROW; r++)
      this.rows[r] = blankRow();
    this.home();
  }

  /* CAN: from the cursor to the end of the row, the cursor stays. */
  clearToEndOfRow () {
    const row = this.rows[this.cursor.row];
    for (let col = this.cursor.col; col <= COLS; col++)
      row[col - 1] = blankCell(this.attr.bg);
    this.changed();
  }

  scrollUp () {
    this.rows.splice(1, 1);
    this.rows.splice(LAST_ROW, 0, blankRow());
  }

  scrollDown () {
    this.rows.splice(LAST_ROW, 1);
    this.rows.splice(1, 0, blankRow());
  }

  /* ---------------- CSI editing ---------------- */

  clearCells (row, from, to) {
    for (let col = from; col <= to; col++)
      this.rows[row][col - 1] = blankCell();
  }

  eraseInDisplay (mode) {
    const c = this.cursor;
    if (mode === 0) {                 // cursor to the end of the screen
      this.clearCells(c.row, c.col, COLS);
      for (let r = c.row + 1; r <= LAST_ROW; r++) this.rows[r] = blankRow();
    } else if (mode === 1) {          // start of the screen to the cursor
      for (let r = 1; r < c.row; r++) this.rows[r] = blankRow();
      this.clearCells(c.row, 1, c.col);
    } else if (mode === 2) {          // the whole screen, cursor stays
      for (let r = 1; r <= LAST_ROW; r++) this.rows[r] = blankRow();
    }
  }

  eraseInRow (mode) {
    const c = this.cursor;
    if (mode === 0) this.clearCells(c.row, c.col, COLS);
    else if (mode === 1) this.clearCells(c.row, 1, c.col);
    else if (mode === 2) this.clearCells(c.row, 1, COLS);
  }

  deleteChars (n) {
    const row = this.rows[this.cursor.row];
    const at = this.cursor.col - 1;
    n = Math.min(n, COLS - at);
    row.splice(at, n);
    for (let i = 0; i < n; i++) row.push(blankCell());
  }

  insertChars (n) {
    const row = this.rows[this.cursor.row];
    const at = this.cursor.col - 1;
    n = Math.min(n, COLS - at);
    for (let i = 0; i < n; i++) row.splice(at, 0, blankCell());
    row.length = COLS;
  }

  insertRows (n) {
    const at = this.cursor.row;
    n = Math.min(n, LAST_ROW - at + 1);
    for (let i = 0; i < n; i++) {
      this.rows.splice(LAST_ROW, 1);
      this.rows.splice(at, 0, blankRow());
    }
  }

  deleteRows (n) {
    const at = this.cursor.row;
    n = Math.min(n, LAST_ROW - at + 1);
    for (let i = 0; i < n; i++) {
      this.rows.splice(at, 1);
      this.rows.splice(LAST_ROW, 0, blankRow());
    }
  }
}
