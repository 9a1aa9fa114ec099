// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * keys.mjs: what a Minitel keyboard sends, from a KeyboardEvent-like
 * object { key, ctrlKey, altKey, shiftKey, metaKey }. No DOM here.
 *
 * The keyboard's codes (STUM 1B):
 * - printable ASCII as is;
 * - accented letters as SS2 (0x19), the G2 accent, the letter:
 *   grave 0x41, acute 0x42, circumflex 0x43, diaeresis 0x48, cedilla 0x4B
 *   (é → 19 42 65, ç → 19 4B 63; capitals likewise with the capital);
 * - G2 specials as SS2 and their code (£ → 19 23, ° → 19 30, …);
 * - the function keys as SEP (0x13) and a letter (FUNCTION_KEYS);
 * - the arrows as the Minitel 1B's: CSI (ESC 0x5B) A, B, C, D; with
 *   Shift as its keyboard: ↑ CSI M, ↓ CSI L, ← CSI P, → CSI 4 h;
 * - its ↵ key: CR (0x0D).
 *
 * Shortcuts (the help text of the page lists them as well). F5, F11, F12
 * and every Ctrl/Alt/Meta combination are left to the browser:
 *   Enter       Envoi             Shift+Enter   ↵ (CR)
 *   Backspace   Correction        Shift+Backspace, Ctrl+Backspace  Annulation
 *   Page Down   Suite             Page Up       Retour
 *   F1 Sommaire  F2 Annulation  F3 Retour  F4 Répétition  F6 Guide
 *   F7 Suite  F8 Envoi  F9 Connexion/Fin  F10 Correction
 * Escape, Tab and every other key send nothing.
 */

export const SEP = 0x13;
export const SS2 = 0x19;
export const ESC = 0x1b;
export const CSI = [ESC, 0x5b];

/*
 * The function keys: their name (the page's data-key), their label (the
 * Minitel's, in French in every language), the letter after SEP and the
 * keyboard shortcuts of this page.
 */
export const FUNCTION_KEYS = [
  { name: 'sommaire', label: 'Sommaire', code: 0x46, shortcuts: ['F1'] },
  { name: 'annulation', label: 'Annulation', code: 0x45, shortcuts: ['F2', 'Shift+Backspace'] },
  { name: 'retour', label: 'Retour', code: 0x42, shortcuts: ['F3', 'PageUp'] },
  { name: 'repetition', label: 'Répétition', code: 0x43, shortcuts: ['F4'] },
  { name: 'guide', label: 'Guide', code: 0x44, shortcuts: ['F6'] },
  { name: 'correction', label: 'Correction', code: 0x47, shortcuts: ['Backspace', 'F10'] },
  { name: 'suite', label: 'Suite', code: 0x48, shortcuts: ['F7', 'PageDown'] },
  { name: 'envoi', label: 'Envoi', code: 0x41, shortcuts: ['Enter', 'F8'] },
  { name: 'connexion', label: 'Connexion/Fin', code: 0x49, shortcuts: ['F9'] },
];

const BY_NAME = new Map(FUNCTION_KEYS.map(k => [k.name, k]));

/* The bytes of a function key by name ('envoi', …), or null. */
export function functionKeyBytes (name) {
  const k = BY_NAME.get(name);
  return k === undefined ? null : Uint8Array.of(SEP, k.code);
}

/* Keys (KeyboardEvent.key) that are function keys, without Shift. */
const KEY_TO_FUNCTION = new Map([
  ['Enter', 'envoi'],
  ['Backspace', 'correction'],
  ['PageDown', 'suite'],
  ['PageUp', 'retour'],
  ['F1', 'sommaire'],
  ['F2', 'annulation'],
  ['F3', 'retour'],
  ['F4', 'repetition'],
  ['F6', 'guide'],
  ['F7', 'suite'],
  ['F8', 'envoi'],
  ['F9', 'connexion'],
  ['F10', 'correction'],
]);

/* The arrows: CSI and a letter; with Shift, the Minitel 1B's shifted arrows. */
const ARROWS = new Map([
  ['ArrowUp', [[0x41], [0x4d]]],          // A; Shift: M
  ['ArrowDown', [[0x42], [0x4c]]],        // B; Shift: L
  ['ArrowRight', [[0x43], [0x34, 0x68]]], // C; Shift: 4 h
  ['ArrowLeft', [[0x44], [0x50]]],        // D; Shift: P
]);

/* G2 accents, by Unicode combining mark. */
const ACCENTS = new Map([
  ['\u0300', 0x41],   // grave
  ['\u0301', 0x42],   // acute
  ['\u0302', 0x43],   // circumflex
  ['\u0308', 0x48],   // diaeresis
  ['\u0327', 0x4b],   // cedilla
]);

/* G2 specials the keyboard sends. */
const SPECIALS = new Map([
  ['£', 0x23], ['§', 0x27], ['°', 0x30], ['±', 0x31], ['÷', 0x38],
  ['¼', 0x3c], ['½', 0x3d], ['¾', 0x3e],
  ['Œ', 0x6a], ['œ', 0x7a], ['ß', 0x7b],
]);

/* The bytes a character is sent as, or null when a Minitel cannot send it. */
export function charBytes (ch) {
  if (ch.length !== 1)
    return null;
  const code = ch.charCodeAt(0);
  if (code >= 0x20 && code <= 0x7e)
    return Uint8Array.of(code);
  const special = SPECIALS.get(ch);
  if (special !== undefined)
    return Uint8Array.of(SS2, special);
  const parts = ch.normalize('NFD');
  if (parts.length === 2 && /[A-Za-z]/.test(parts[0])) {
    const accent = ACCENTS.get(parts[1]);
    if (accent === 0x4b && parts[0] !== 'c' && parts[0] !== 'C')
      return null;      // the Minitel's cedilla goes under a c only
    if (accent !== undefined)
      return Uint8Array.of(SS2, accent, parts.charCodeAt(0));
  }
  return null;
}

/* The bytes a key sends, or null (the browser keeps the key). */
export function keyToBytes (event) {
  const key = event.key;
  if (typeof key !== 'string')
    return null;
  if (event.metaKey)
    return null;
  /* AltGr comes as Ctrl+Alt with the character it makes. */
  const altGr = event.ctrlKey && event.altKey && key.length === 1;
  if ((event.ctrlKey || event.altKey) && !altGr) {
    if (key === 'Backspace' && event.ctrlKey && !event.altKey)
      return functionKeyBytes('annulation');
    return null;
  }
  if (key.length === 1)
    return charBytes(key);
  if (event.shiftKey) {
    if (key === 'Enter')
      return Uint8Array.of(0x0d);            // the ↵ key
    if (key === 'Backspace')
      return functionKeyBytes('annulation');
  }
  const arrow = ARROWS.get(key);
  if (arrow !== undefined)
    return Uint8Array.from([...CSI, ...arrow[event.shiftKey ? 1 : 0]]);
  const name = KEY_TO_FUNCTION.get(key);
  if (name !== undefined)
    return functionKeyBytes(name);
  return null;
}
