import { ApiError } from './http-client.js';

/** A resource as the server answers it; the CLI only shows it, so its fields stay unknown. */
export type Item = Record<string, unknown>;

/** The list envelope every collection answers with. */
export interface Page {
  items: Item[];
  total: number;
  limit: number;
  offset: number;
  next_page_uri: string | null;
  prev_page_uri: string | null;
}

/** One table column, or one `key: value` line of a record: a header and how an item shows it. */
export interface Column {
  header: string;
  value(item: Item): string;
}

export interface OutputOptions {
  json?: boolean;
}

/** A column that shows one field as it is. */
export function field(name: string, header = name): Column {
  return { header, value: (item) => formatValue(item[name]) };
}

/** How a value reads in a cell: null as "-", lists comma-separated, objects as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((entry) => entry === null || typeof entry !== 'object')) {
    return value.length === 0 ? '-' : value.map(String).join(', ');
  }
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Names are free text from the server: a newline or an escape sequence must not break the table or the terminal.
function cell(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it removes
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** Plain padded columns under an upper-case header row. */
export function renderTable(items: Item[], columns: Column[]): string {
  const rows = [
    columns.map((column) => column.header.toUpperCase()),
    ...items.map((item) => columns.map((column) => cell(column.value(item)))),
  ];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => (row[index] ?? '').length)));
  const lines = rows.map((row) =>
    row
      .map((text, index) => (index === row.length - 1 ? text : text.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** `key: value` lines with the keys aligned. */
export function renderRecord(item: Item, fields: Column[]): string {
  const width = Math.max(...fields.map((column) => column.header.length)) + 1;
  const lines = fields.map((column) => `${`${column.header}:`.padEnd(width)} ${cell(column.value(item))}`);
  return `${lines.join('\n')}\n`;
}

/** `name: value` lines of a map (a caller's variables, an erasure's counts), indented under a heading; '' when empty. */
export function renderSection(heading: string, values: unknown): string {
  const entries = Object.entries((values ?? {}) as Record<string, unknown>);
  if (entries.length === 0) return '';
  const lines = renderRecord(
    Object.fromEntries(entries),
    entries.map(([name]) => field(name)),
  )
    .trimEnd()
    .split('\n');
  return `${heading}:\n${lines.map((line) => `  ${line}\n`).join('')}`;
}

/** Every field of the record in the server's order; the default view of one resource. */
export function allFields(item: Item): Column[] {
  return Object.keys(item).map((name) => field(name));
}

/** The server's answer as one JSON document on stdout, so that `--json` output pipes into jq. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One resource: its JSON with --json, otherwise `key: value` lines. */
export function printRecord(item: Item, options: OutputOptions, fields: Column[] = allFields(item)): void {
  if (options.json) printJson(item);
  else process.stdout.write(renderRecord(item, fields));
}

/** One page of a list: its JSON envelope with --json, otherwise a table and where the next page starts. */
export function printPage(page: Page, options: OutputOptions, columns: Column[], plural: string): void {
  if (options.json) {
    printJson(page);
    return;
  }
  if (page.items.length === 0) {
    process.stdout.write(
      page.total === 0 ? `no ${plural}\n` : `no ${plural} at offset ${page.offset} (${page.total} in all)\n`,
    );
    return;
  }
  process.stdout.write(renderTable(page.items, columns));
  const last = page.offset + page.items.length;
  const more = page.next_page_uri === null ? '' : `; next page: --offset ${last} --limit ${page.limit}`;
  process.stdout.write(`\n${page.offset + 1}-${last} of ${page.total} ${plural}${more}\n`);
}

function isObject(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const LISTED_DETAILS = 20;

/**
 * An error's details as lines under its message, for the shapes the server sends: `{field, message}`
 * entries, `{line, column, reason}` rows (alone or under `rows`), missing columns, `{value, reason}`, or
 * the `{phone_number, reason}` numbers under `invalid` that an erasure request refuses.
 */
export function detailLines(details: unknown, message = ''): string[] {
  const entries = Array.isArray(details)
    ? details
    : isObject(details) && Array.isArray(details.rows)
      ? details.rows
      : isObject(details) && Array.isArray(details.invalid)
        ? details.invalid
        : undefined;
  if (entries === undefined) {
    if (isObject(details) && Array.isArray(details.missing)) return [`missing: ${formatValue(details.missing)}`];
    return [];
  }
  // A cohort's blocking problems come as {code, message, details}; the one the message already says is left out.
  const shown = entries.filter((entry) => !(isObject(entry) && entry.message === message));
  const lines = shown.slice(0, LISTED_DETAILS).map((entry) => {
    if (!isObject(entry)) return formatValue(entry);
    if ('code' in entry && 'message' in entry) return `${formatValue(entry.message)} (${formatValue(entry.code)})`;
    if ('line' in entry)
      return `line ${formatValue(entry.line)}${entry.column == null ? '' : `, ${formatValue(entry.column)}`}: ${formatValue(entry.reason)}`;
    if ('field' in entry) return `${formatValue(entry.field)}: ${formatValue(entry.message)}`;
    if ('value' in entry) return `${formatValue(entry.value)}: ${formatValue(entry.reason)}`;
    if ('phone_number' in entry) return `${formatValue(entry.phone_number)}: ${formatValue(entry.reason)}`;
    return formatValue(entry);
  });
  const total = isObject(details) && typeof details.invalid_count === 'number' ? details.invalid_count : shown.length;
  if (total > lines.length) lines.push(`… and ${total - lines.length} more (--json shows the server's list)`);
  return lines;
}

/** `error: <message> (<code>)` and the details, indented, on stderr. */
export function printError(message: string, code: string, details: unknown): void {
  const lines = [
    `error: ${cell(message)} (${code})`,
    ...detailLines(details, message).map((line) => `  ${cell(line)}`),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** A problem found before any request, such as a file that cannot be read: reported like a refusal, without a code. */
export class LocalError extends Error {}

/**
 * Wraps a command action so that an error answer from the server becomes `error: <message> (<code>)`
 * (and its details, one per line) on stderr and exit code 1; with --json the server's error envelope
 * is printed on stdout as well. It sets process.exitCode rather than exiting, so pending output flushes.
 */
export function reportApiErrors<Args extends unknown[]>(
  action: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      await action(...args);
    } catch (error) {
      if (error instanceof LocalError) {
        process.stderr.write(`error: ${cell(error.message)}\n`);
        process.exitCode = 1;
        return;
      }
      if (!(error instanceof ApiError)) throw error;
      const command = args.at(-1) as { optsWithGlobals?: () => OutputOptions } | undefined;
      if (command?.optsWithGlobals?.().json && error.body !== null) printJson(error.body);
      printError(error.message, error.code, error.details);
      process.exitCode = 1;
    }
  };
}
