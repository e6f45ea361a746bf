import { sql, type Kysely, type Selectable } from 'kysely';
import type { ConsoleSessionsTable, Database } from '../schema.js';
import { type ApiKeyRow, readWorkspaces } from './keys-repository.js';

type Db = Kysely<Database>;
export type SessionRow = Selectable<ConsoleSessionsTable>;

/** A live session with what its key says now; the key's columns are null once the key is gone. */
export interface SessionWithKeyRow {
  key_id: string | null;
  /** 0 or 1; PostgreSQL may hand it back as text. */
  is_master: number | string;
  key_hash: string;
  org_id: string | null;
  user_id: string | null;
  workspaces: ApiKeyRow['workspaces'] | null;
  user_email: string | null;
  current_key_hash: string | null;
}

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db.insertInto('console_sessions').values(row).execute();
}

/** Sweeps sessions that expired before `now` (ISO 8601); returns how many went. */
export async function deleteExpiredSessions(db: Db, now: string): Promise<number> {
  const result = await db.deleteFrom('console_sessions').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The unexpired session with this token hash, joined with the key it was signed in with as that
 * key is now. Runs on every console request, so it is SQL text rather than built each time.
 */
export async function findLiveSessionWithKey(
  db: Db,
  tokenHash: string,
  now: string,
): Promise<SessionWithKeyRow | undefined> {
  const { rows } = await sql<Omit<SessionWithKeyRow, 'workspaces'> & { workspaces: string | null }>`
    select s.key_id, s.is_master, s.key_hash, k.org_id, k.user_id, k.workspaces, u.email as user_email, k.key_hash as current_key_hash
    from console_sessions s
    left join api_keys k on k.key_id = s.key_id
    left join users u on u.user_id = k.user_id
    where s.token_hash = ${tokenHash} and s.expires_at > ${now}`.execute(db);
  const row = rows[0];
  return row && { ...row, workspaces: row.workspaces === null ? null : readWorkspaces(row.workspaces) };
}

/** Deletes one session (sign-out); true when it existed. */
export async function deleteSession(db: Db, tokenHash: string): Promise<boolean> {
  const result = await db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
