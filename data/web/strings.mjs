// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * strings.mjs: the page's own words in English and French (the function
 * keys keep the Minitel's French names in both). French when the
 * browser's language is French (fr, fr-FR, fr-CA…), English otherwise.
 */

export const STRINGS = {
  en: {
    title: 'Minitel',
    screenLabel: 'Minitel screen',
    textLabel: 'Text of the Minitel screen',
    keysLabel: 'Minitel function keys',
    connecting: 'Connecting to the gateway…',
    open: 'Connected.',
    closed: 'Connection lost.',
    closedCode: 'Connection lost (code {code}).',
    closedReason: 'Connection lost (code {code}: {reason}).',
    failed: 'Cannot connect to the gateway.',
    reconnect: 'Reconnect',
    reconnectTitle: 'Open a new connection, on a cleared screen',
    pacing: '1200 baud',
    pacingTitle: 'Draw received bytes at a Minitel’s speed, 120 characters a second',
    copy: 'Copy the text',
    copyTitle: 'Copy the text of the screen to the clipboard',
    copied: 'Text copied.',
    copyFailed: 'Cannot copy: select the text instead.',
    keyTitle: '{label} (keyboard: {shortcuts})',
    helpSummary: 'Keyboard',
    help: [
      'Type anywhere on the page: the keys go to the Minitel service.',
      'Enter or F8: Envoi. Shift+Enter: the ↵ key.',
      'Backspace or F10: Correction. Shift+Backspace, Ctrl+Backspace or F2: Annulation.',
      'Page Down or F7: Suite. Page Up or F3: Retour.',
      'F1: Sommaire. F4: Répétition. F6: Guide. F9: Connexion/Fin.',
      'Arrows: the Minitel’s cursor keys. Accented letters are sent as a Minitel sends them.',
      'F5, F11, F12 and Ctrl, Alt or Cmd combinations stay the browser’s.',
    ],
  },
  fr: {
    title: 'Minitel',
    screenLabel: 'Écran du Minitel',
    textLabel: 'Texte de l’écran du Minitel',
    keysLabel: 'Touches de fonction du Minitel',
    connecting: 'Connexion à la passerelle…',
    open: 'Connecté.',
    closed: 'Connexion perdue.',
    closedCode: 'Connexion perdue (code {code}).',
    closedReason: 'Connexion perdue (code {code} : {reason}).',
    failed: 'Impossible de joindre la passerelle.',
    reconnect: 'Se reconnecter',
    reconnectTitle: 'Ouvrir une nouvelle connexion, sur un écran effacé',
    pacing: '1200 bauds',
    pacingTitle: 'Afficher à la vitesse d’un Minitel, 120 caractères par seconde',
    copy: 'Copier le texte',
    copyTitle: 'Copier le texte de l’écran dans le presse-papiers',
    copied: 'Texte copié.',
    copyFailed: 'Copie impossible : sélectionnez le texte.',
    keyTitle: '{label} (clavier : {shortcuts})',
    helpSummary: 'Clavier',
    help: [
      'Tapez n’importe où dans la page : les touches vont au service Minitel.',
      'Entrée ou F8 : Envoi. Maj+Entrée : la touche ↵.',
      'Retour arrière ou F10 : Correction. Maj+Retour arrière, Ctrl+Retour arrière ou F2 : Annulation.',
      'Page suivante ou F7 : Suite. Page précédente ou F3 : Retour.',
      'F1 : Sommaire. F4 : Répétition. F6 : Guide. F9 : Connexion/Fin.',
      'Flèches : les touches de curseur du Minitel. Les lettres accentuées partent comme d’un Minitel.',
      'F5, F11, F12 et les combinaisons avec Ctrl, Alt ou Cmd restent au navigateur.',
    ],
  },
};

/* The keys' names in the shortcut lists, per language. */
export const KEY_NAMES = {
  en: { Enter: 'Enter', Backspace: 'Backspace', PageUp: 'Page Up', PageDown: 'Page Down', 'Shift+Backspace': 'Shift+Backspace' },
  fr: { Enter: 'Entrée', Backspace: 'Retour arrière', PageUp: 'Page précédente', PageDown: 'Page suivante', 'Shift+Backspace': 'Maj+Retour arrière' },
};

export function pickLanguage (language) {
  return typeof language === 'string' && language.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

/* A string with its {name} fields filled. */
export function format (template, fields = {}) {
  return template.replace(/\{(\w+)\}/g, (all, name) => (name in fields ? String(fields[name]) : all));
}
