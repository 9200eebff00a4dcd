// Text from a trace or a file (kernel names, event kinds, paths) may hold control characters:
// ESC sequences would reach the terminal through a Markdown report or an error line, NUL or a
// vertical tab would break the one-line message. They are shown as visible \xNN escapes instead.

// C0 controls except tab and newline, DEL, and the C1 range (U+009B is a one-character CSI).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f]/g;

const hex = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** Control characters as \xNN; tabs and newlines kept. */
export function escapeControls(s: string): string {
  return s.replace(CONTROL, hex);
}

/** One line for a terminal: every control character, newlines included, as \xNN. */
export function oneLine(s: string): string {
  return s.replace(CONTROL_OR_NEWLINE, hex);
}
