// Cell-level rules for the CSV files Roster reads and writes.
import Papa from 'papaparse';

// Characters that make spreadsheet software treat a cell as a formula (OWASP CSV injection).
const FORMULA_TRIGGERS = new Set(['=', '+', '-', '@', '\t', '\r']);

/** Prefixes a cell that a spreadsheet would run as a formula with `'`, so it stays text. */
export function neutraliseCell(value: string): string {
  const first = value.charAt(0);
  return FORMULA_TRIGGERS.has(first) ? `'${value}` : value;
}

/** One CSV line (no line break) of cells made safe for spreadsheets: quoted where needed, no formulas. */
export function safeCsvLine(cells: readonly string[]): string {
  return Papa.unparse([cells.map(neutraliseCell)], { header: false, newline: '\r\n' });
}

export type Delimiter = ',' | ';' | '\t' | '|';

// Order breaks ties: a comma wins over the others when counts are equal.
const CANDIDATES: readonly Delimiter[] = [',', ';', '\t', '|'];

/** The delimiter used most often in a header line outside double quotes; ',' when none occurs. */
export function detectDelimiter(headerLine: string): Delimiter {
  const counts = [0, 0, 0, 0];
  let quoted = false;
  for (let i = 0; i < headerLine.length; i++) {
    const char = headerLine[i];
    // An escaped quote ("") toggles twice, which leaves the state unchanged: no special case.
    if (char === '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted) continue;
    const slot = char === ',' ? 0 : char === ';' ? 1 : char === '\t' ? 2 : char === '|' ? 3 : -1;
    if (slot >= 0) counts[slot] = (counts[slot] ?? 0) + 1;
  }
  let best = 0;
  for (let slot = 1; slot < CANDIDATES.length; slot++) {
    if ((counts[slot] ?? 0) > (counts[best] ?? 0)) best = slot;
  }
  return (counts[best] ?? 0) > 0 ? (CANDIDATES[best] ?? ',') : ',';
}
