// Helpers for looking at cell text and quoting it inside rejection reasons.

/** The longest part of a value quoted in a reason; the rest is cut and marked with '…'. */
export const QUOTED_VALUE_MAX = 60;

// Control characters and bidirectional overrides are escaped so that a reason stays on one
// line and reads left to right in the rejection file, whatever the value contained.
const UNPRINTABLE = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeUnprintable(char: string): string {
  return NAMED_ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A value in single quotes for a human reason: cut to QUOTED_VALUE_MAX, control characters escaped. */
export function quoteValue(value: string): string {
  let shown = value;
  if (shown.length > QUOTED_VALUE_MAX) {
    let end = QUOTED_VALUE_MAX;
    // Never split a surrogate pair: half an emoji turns into U+FFFD downstream.
    const last = shown.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1;
    shown = `${shown.slice(0, end)}…`;
  }
  return `'${shown.replace(UNPRINTABLE, escapeUnprintable)}'`;
}

/**
 * True when the value is empty or only whitespace (the characters String.prototype.trim
 * removes). Scans instead of trimming so that long non-blank values cost one character.
 */
export function isBlank(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (!isTrimmedWhitespace(value.charCodeAt(i))) return false;
  }
  return true;
}

function isTrimmedWhitespace(code: number): boolean {
  if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) return true;
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** A list of names for a message, cut after `max` entries with a count of the rest. */
export function listNames(names: readonly string[], max = 30): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} … and ${names.length - max} more`;
}
