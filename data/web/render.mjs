// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * render.mjs: draws a VideotexScreen (videotex.mjs) on a canvas, and keeps
 * its text copy in an element. The only module here that touches the DOM
 * besides minitel.mjs.
 *
 * Geometry: 40 × 25 cells of CW × CH pixels; cell (row r, column c), r = 0
 * the status row at the top, c 0-based (Minitel column c + 1), covers
 * x ∈ [c·CW, (c+1)·CW), y ∈ [r·CH, (r+1)·CH).
 */

import { COLS, ROWS, MOSAIC_BITS } from './videotex.mjs';

export const CW = 16;
export const CH = 20;

/* The Minitel's palette, index = videotex colour code. */
export const PALETTE = [
  '#000000',  // 0 black
  '#FF0000',  // 1 red
  '#00FF00',  // 2 green
  '#FFFF00',  // 3 yellow
  '#0000FF',  // 4 blue
  '#FF00FF',  // 5 magenta
  '#00FFFF',  // 6 cyan
  '#FFFFFF',  // 7 white
];

/*
 * A G1 mosaic cell: 2 columns × 3 rows of blocks, on whole pixels (no
 * antialiasing at their edges). With CW = 16, CH = 20: widths 8/8,
 * heights 7/6/7. Separated mosaics (ESC 0x5A in G1) leave SEPARATION
 * pixels of background on the right and at the bottom of each block.
 */
export const MOSAIC_WIDTHS = [8, 8];
export const MOSAIC_HEIGHTS = [7, 6, 7];
export const SEPARATION = 2;

/* Text: a monospace font scaled to the cell. */
export const FONT_FAMILY = '"DejaVu Sans Mono", "Liberation Mono", monospace';
const FONT_SIZE = 18;
const BASELINE = 15;       // from the top of the cell
const UNDERLINE_Y = 17;    // underline: 1 px high at this line of the cell

/* The cursor: a steady bar over the two bottom lines of its cell. */
export const CURSOR_HEIGHT = 2;

/* Blinking characters: shown, then hidden, for BLINK_MS each. */
export const BLINK_MS = 500;

export class CanvasRenderer {
  /*
   * canvas: the <canvas> (its size is set here: 40·CW × 25·CH);
   * screen: the VideotexScreen; textElement: where the text copy goes.
   */
  constructor (canvas, screen, textElement = null) {
    this.canvas = canvas;
    this.screen = screen;
    this.textElement = textElement;
    canvas.width = COLS * CW;
    canvas.height = ROWS * CH;
    this.ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: true });
    this.ctx.imageSmoothingEnabled = false;
    /* A monospace font's advance is about 0.6 of its size: glyphs are
     * stretched across the width of the cell, as a Minitel's are. */
    this.ctx.font = `${FONT_SIZE}px ${FONT_FAMILY}`;
    const advance = this.ctx.measureText('M').width;
    this.scaleX = advance > 0 ? Math.min(2, (CW - 2) / advance) : 1;
    this.frame = 0;
    this.fallback = 0;
    this.blinkTimer = 0;
    this.blinkHidden = false;
    this.drawnVersion = -1;
  }

  /*
   * Asks a redraw: at the next animation frame, or within 100 ms when
   * frames do not come (a page in the background).
   */
  schedule () {
    if (this.frame !== 0)
      return;
    const run = () => {
      cancelAnimationFrame(this.frame);
      clearTimeout(this.fallback);
      this.frame = 0;
      this.fallback = 0;
      this.draw();
    };
    this.frame = requestAnimationFrame(run);
    this.fallback = setTimeout(run, 100);
  }

  /* Draws the whole screen and updates the text copy. */
  draw () {
    const screen = this.screen;
    let blinking = false;
    for (let r = 0; r < ROWS; r++) {
      const row = screen.rows[r];
      for (let c = 0; c < COLS; c++) {
        const cell = row[c];
        if (cell.blink)
          blinking = true;
        this.drawCell(r, c, cell);
      }
    }
    const cur = screen.cursor;
    if (cur.visible)
      this.drawCursor(cur.row, cur.col - 1);
    screen.dirty = false;
    this.drawnVersion = screen.version;
    if (this.textElement !== null)
      this.textElement.textContent = screen.textRows().join('\n');
    this.blinkIf(blinking);
  }

  /* Blinking cells on screen: a redraw at every half period. */
  blinkIf (blinking) {
    if (!blinking || this.blinkTimer !== 0)
      return;
    this.blinkTimer = setTimeout(() => {
      this.blinkTimer = 0;
      this.blinkHidden = !this.blinkHidden;
      this.schedule();
    }, BLINK_MS);
  }

  drawCell (r, c, cell) {
    const ctx = this.ctx;
    const x = c * CW;
    const y = r * CH;
    const mosaic = cell.set === 'G1';
    let fg = cell.fg;
    let bg = cell.bg;
    if (cell.invert) {
      fg = cell.bg;
      bg = cell.fg;
    }
    ctx.fillStyle = PALETTE[bg];
    ctx.fillRect(x, y, CW, CH);
    if (cell.conceal || (cell.blink && this.blinkHidden))
      return;
    ctx.fillStyle = PALETTE[fg];
    if (mosaic) {
      this.drawMosaic(x, y, cell.code, cell.separated);
      return;
    }
    if (cell.glyph === ' ' && !cell.underline)
      return;
    this.drawGlyph(x, y, cell);
  }

  drawMosaic (x, y, code, separated) {
    const ctx = this.ctx;
    const gap = separated ? SEPARATION : 0;
    let by = y;
    for (let i = 0; i < 3; i++) {
      let bx = x;
      for (let j = 0; j < 2; j++) {
        if (code & MOSAIC_BITS[i][j])
          ctx.fillRect(bx, by, MOSAIC_WIDTHS[j] - gap, MOSAIC_HEIGHTS[i] - gap);
        bx += MOSAIC_WIDTHS[j];
      }
      by += MOSAIC_HEIGHTS[i];
    }
  }

  /*
   * A character, scaled by its width and height; a cell shows its part
   * (partX, partY) of it, clipped to the cell.
   */
  drawGlyph (x, y, cell) {
    const ctx = this.ctx;
    const char = cell.glyph;
    ctx.save();
    ctx.beginPath();
    ctx.rect(x, y, CW, CH);
    ctx.clip();
    ctx.translate(x - cell.partX * CW, y - cell.partY * CH);
    ctx.scale(cell.width, cell.height);
    if (cell.underline)
      ctx.fillRect(0, UNDERLINE_Y, CW, 1);
    ctx.scale(this.scaleX, 1);
    ctx.font = `${FONT_SIZE}px ${FONT_FAMILY}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(char, CW / 2 / this.scaleX, BASELINE);
    ctx.restore();
  }

  drawCursor (r, c) {
    const cell = this.screen.rows[r][c];
    const colour = cell.invert ? cell.bg : cell.fg;
    const ctx = this.ctx;
    ctx.fillStyle = PALETTE[colour === (cell.invert ? cell.fg : cell.bg) ? 7 - colour : colour];
    ctx.fillRect(c * CW, (r + 1) * CH - CURSOR_HEIGHT, CW, CURSOR_HEIGHT);
  }
}
