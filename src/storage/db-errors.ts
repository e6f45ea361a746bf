/** True for a primary-key or unique-constraint violation on either backend. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Node's socket errors for a server that is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)|database is locked/i;

/**
 * True when the database could not be reached or dropped the connection (a restart, a network
 * fault, too many clients): the request or attempt may succeed later, so clients get 503, not 500.
 * PostgreSQL SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown,
 * cannot connect now), 53300 (too many connections); pg's own messages for a lost connection;
 * SQLite's busy (past busy_timeout, extended codes included), I/O and cannot-open errors. Only the
 * error itself is looked at, not its cause: a wrapped ECONNREFUSED may be object storage's or a
 * download's, not the database's.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code)) return true;
    if (code.startsWith('08') || code.startsWith('57P') || code === '53300') return true;
    if (
      code.startsWith('SQLITE_BUSY') ||
      code.startsWith('SQLITE_IOERR') ||
      code.startsWith('SQLITE_CANTOPEN') ||
      code === 'SQLITE_PROTOCOL'
    )
      return true;
  }
  return UNAVAILABLE_MESSAGE.test(errorMessage(error));
}

/**
 * True when a write failed because the disk (or the database's tablespace) is full: ENOSPC and
 * EDQUOT from the file system, SQLITE_FULL, PostgreSQL's 53100 disk_full.
 */
export function isDiskFull(error: unknown): boolean {
  for (
    let current: unknown = error, depth = 0;
    current && depth < 5;
    current = (current as { cause?: unknown }).cause, depth++
  ) {
    const code = errorCode(current);
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || code === '53100') return true;
    if (/database or disk is full|no space left on device|could not extend file/i.test(errorMessage(current)))
      return true;
  }
  return false;
}
