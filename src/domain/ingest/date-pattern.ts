// The `date` format function: a user-facing pattern (DD/MM/YYYY) compiled once into a luxon parser.
import { DateTime } from 'luxon';
import { StepFailure, type Compiled, type StepRun } from './format-step.js';

/** Pattern tokens, longest first so that YYYY wins over YY and MM over M. */
export const DATE_TOKENS = ['YYYY', 'YY', 'MM', 'M', 'DD', 'D', 'HH', 'mm', 'ss'] as const;
type DateToken = (typeof DATE_TOKENS)[number];
type DateUnit = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

const LUXON_TOKEN: Readonly<Record<DateToken, string>> = {
  YYYY: 'yyyy',
  YY: 'yy',
  MM: 'MM',
  M: 'M',
  DD: 'dd',
  D: 'd',
  HH: 'HH',
  mm: 'mm',
  ss: 'ss',
};
const TOKEN_UNIT: Readonly<Record<DateToken, DateUnit>> = {
  YYYY: 'year',
  YY: 'year',
  MM: 'month',
  M: 'month',
  DD: 'day',
  D: 'day',
  HH: 'hour',
  mm: 'minute',
  ss: 'second',
};

const LETTER = /\p{L}/u;

/**
 * Compiles an input pattern such as `DD/MM/YYYY` or `YYYY-MM-DDTHH:mm` into a step that outputs
 * ISO 8601: `YYYY-MM-DD`, or `YYYY-MM-DDTHH:mm:ss` (no offset: the file says nothing of zones)
 * when the pattern has a time.
 */
export function compileDatePattern(pattern: string): Compiled<StepRun> {
  const tokens = tokenise(pattern);
  if (!tokens.ok) return tokens;
  const seen = new Map<DateUnit, DateToken>();
  const problems: string[] = [];
  let luxonFormat = '';
  for (const part of tokens.value) {
    if (part.kind === 'literal') {
      luxonFormat += `'${part.text}'`;
      continue;
    }
    const unit = TOKEN_UNIT[part.token];
    const earlier = seen.get(unit);
    if (earlier !== undefined)
      problems.push(`pattern '${pattern}' has the ${unit} twice (${earlier} and ${part.token})`);
    seen.set(unit, part.token);
    luxonFormat += LUXON_TOKEN[part.token];
  }
  for (const unit of ['year', 'month', 'day'] as const) {
    if (!seen.has(unit))
      problems.push(
        `pattern '${pattern}' has no ${unit} (use ${unit === 'year' ? 'YYYY or YY' : unit === 'month' ? 'MM or M' : 'DD or D'})`,
      );
  }
  if (seen.has('hour') !== seen.has('minute'))
    problems.push(`pattern '${pattern}' must have both HH and mm, or neither`);
  if (seen.has('second') && !seen.has('minute')) problems.push(`pattern '${pattern}' has ss without HH:mm`);
  if (problems.length > 0) return { ok: false, problems };

  const hasTime = seen.has('hour');
  // Built once: luxon's fromFormat would rebuild its regular expression for every row.
  const parser = DateTime.buildFormatParser(luxonFormat, { locale: 'en-US' });
  const mismatch = new StepFailure(`does not match the pattern ${pattern}`);
  const unreal = new StepFailure(hasTime ? 'not a real date and time' : 'not a real date');
  const run: StepRun = (value) => {
    // UTC has no daylight-saving gaps, so every wall-clock time in the file exists.
    const parsed = DateTime.fromFormatParser(value.trim(), parser, { zone: 'utc' });
    if (!parsed.isValid) return parsed.invalidReason === 'unparsable' ? mismatch : unreal;
    const iso = hasTime ? parsed.toISO({ includeOffset: false, suppressMilliseconds: true }) : parsed.toISODate();
    return iso ?? unreal;
  };
  return { ok: true, value: remembered(run, DATE_MEMO_ENTRIES) };
}

/** How many distinct values one compiled date step remembers before it starts again. */
export const DATE_MEMO_ENTRIES = 10_000;

/**
 * A step that remembers its answers: reading a date with luxon was about a quarter of a transform
 * thread's time (a 1M-row ingest profiled, 2026-12-04), and a column of dates holds few distinct
 * values (673 in the benchmark's million rows). The answer depends on the value alone (UTC, a fixed
 * locale, luxon's fixed two-digit-year cutoff), so a remembered one is the same answer. The memory
 * is bounded: past `entries` distinct values it is emptied and fills again.
 */
export function remembered(run: StepRun, entries: number): StepRun {
  const answers = new Map<string, ReturnType<StepRun>>();
  return (value) => {
    let answer = answers.get(value);
    if (answer === undefined) {
      answer = run(value);
      if (answers.size >= entries) answers.clear();
      answers.set(value, answer);
    }
    return answer;
  };
}

function isForbiddenLiteral(char: string): boolean {
  return (LETTER.test(char) && char !== 'T') || char === "'";
}

function startsToken(pattern: string, at: number): boolean {
  return DATE_TOKENS.some((token) => pattern.startsWith(token, at));
}

type PatternPart = { kind: 'token'; token: DateToken } | { kind: 'literal'; text: string };

function tokenise(pattern: string): Compiled<PatternPart[]> {
  if (pattern.length === 0) return { ok: false, problems: ['the input pattern is empty'] };
  const parts: PatternPart[] = [];
  const problems: string[] = [];
  let i = 0;
  while (i < pattern.length) {
    const token = DATE_TOKENS.find((candidate) => pattern.startsWith(candidate, i));
    if (token !== undefined) {
      parts.push({ kind: 'token', token });
      i += token.length;
      continue;
    }
    // 'T' is the ISO 8601 date-time separator; any other letter is a mistyped token, and a quote
    // would end luxon's literal quoting. A run of such characters is reported once.
    let end = i;
    while (end < pattern.length && isForbiddenLiteral(pattern.charAt(end)) && !startsToken(pattern, end)) end++;
    if (end > i) {
      problems.push(
        `pattern '${pattern}' has an unknown token '${pattern.slice(i, end)}' at position ${i + 1} (tokens: ${DATE_TOKENS.join(', ')})`,
      );
      i = end;
      continue;
    }
    parts.push({ kind: 'literal', text: pattern.charAt(i) });
    i += 1;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: parts };
}
