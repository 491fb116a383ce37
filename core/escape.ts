// Strings that came off the wire are shown only after escaping: nothing a server sends can
// move a terminal cursor, set a window title or look like a second line.

/** Printable ASCII stays; backslash doubles; everything else becomes \xNN (or \uNNNN). */
export function escapeText(s: string): string {
  // most strings need nothing: return them as they are, without copying them a character at a time
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x5c) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) out += c === 0x5c ? "\\\\" : s[i];
    else if (c < 0x100) out += "\\x" + (c < 16 ? "0" : "") + c.toString(16);
    else out += "\\u" + c.toString(16).padStart(4, "0");
  }
  return out;
}

/**
 * JSON for pipes and terminals alike: JSON.stringify already escapes C0 controls; this also
 * escapes DEL, the C1 controls (U+0080–U+009F: 0x9b is a one-byte CSI) and the line separators.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"));
}
