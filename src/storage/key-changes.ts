import type SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

/**
 * Tells a cache of verified API keys whether what it read may have changed since (migration 0009:
 * triggers on `api_keys`, `users` and `orgs` fire on every UPDATE and DELETE, whoever runs it — the
 * API, another instance, a cascade, an operator at a SQL prompt).
 */
export interface KeyChanges {
  /**
   * A number that changes whenever an API key, user or org may have been changed or deleted; an
   * entry read under one version is good only while the version stays the same. Undefined while
   * no change could be seen (PostgreSQL: the listening connection is not up): nothing may be
   * served from a cache then.
   */
  version(): number | undefined;
  /**
   * This process has just changed a key, user or org: the version moves on at once, so its own next
   * request cannot be answered from the cache, rather than when the notification comes back.
   */
  changed(): void;
  close(): Promise<void>;
}

/** How long SQLite's count of changes is used before it is read again. */
export const SQLITE_KEY_CHANGES_READ_MS = 250;

/**
 * SQLite: the triggers count changes in the one-row table `key_changes`. Reading it is a statement
 * (a read transaction, its locks), which cost as much as a tenth of a request that checks a key, so
 * it is read again at most every SQLITE_KEY_CHANGES_READ_MS; a change made through this process's
 * API moves the version on at once (`changed`). So a key revoked, or its user or org deleted,
 * through the API is refused by the next request, and one deleted by another connection (the
 * `sqlite3` shell) within a quarter of a second. The version is the count read plus the changes made
 * here, which only grow.
 */
export function sqliteKeyChanges(handle: SqliteDatabase.Database): KeyChanges {
  let read: SqliteDatabase.Statement<[], number> | undefined;
  let counted: number | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let local = 0;
  return {
    version() {
      const at = Date.now();
      if (counted === undefined || at - readAt >= SQLITE_KEY_CHANGES_READ_MS) {
        try {
          read ??= handle.prepare<[], number>('select version from key_changes').pluck();
          counted = read.get();
          readAt = at;
        } catch {
          // Not migrated yet, or the database is closing: no version, so no cache.
          counted = undefined;
        }
      }
      return counted === undefined ? undefined : counted + local;
    },
    changed() {
      local++;
    },
    close: async () => undefined,
  };
}

/** The channel migration 0009's triggers notify on PostgreSQL. */
export const KEY_CHANGES_CHANNEL = 'roster_key_changes';

/** How a listening connection names itself in `pg_stat_activity`. */
export const KEY_CHANGES_APPLICATION_NAME = 'roster-key-changes';

const RECONNECT_MS = 1000;

/**
 * PostgreSQL: one connection per process LISTENs on the channel that the triggers notify when a
 * change commits; each notification (from any instance or session) moves the version on. The
 * connection opens on the first call, so processes that never check a key (workers, ingest
 * threads) never open it. While it is down (a database restart, a network fault) the version is
 * undefined, so every key is read from the database again; once it listens again the version moves
 * on, since notifications sent meanwhile were lost.
 */
export function postgresKeyChanges(url: string, connectTimeoutMs: number): KeyChanges {
  let counter = 0;
  let listening = false;
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const down = (failed: pg.Client) => {
    if (client !== failed) return;
    listening = false;
    client = undefined;
    failed.end().catch(() => undefined);
    if (!closed) retry = setTimeout(connect, RECONNECT_MS).unref();
  };

  function connect(): void {
    retry = undefined;
    if (closed) return;
    const next = new pg.Client({
      connectionString: url,
      application_name: KEY_CHANGES_APPLICATION_NAME,
      connectionTimeoutMillis: connectTimeoutMs,
      // A peer that vanished without closing the connection is noticed within about half a minute.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    client = next;
    next.on('error', () => down(next));
    next.on('end', () => down(next));
    next.on('notification', () => {
      counter++;
    });
    next
      .connect()
      .then(() => next.query(`LISTEN ${KEY_CHANGES_CHANNEL}`))
      .then(() => {
        if (client !== next) return;
        counter++;
        listening = true;
      })
      .catch(() => down(next));
  }

  return {
    version() {
      if (!client && !retry && !closed) connect();
      return listening ? counter : undefined;
    },
    changed() {
      counter++;
    },
    async close() {
      closed = true;
      listening = false;
      if (retry) clearTimeout(retry);
      const open = client;
      client = undefined;
      await open?.end().catch(() => undefined);
    },
  };
}
