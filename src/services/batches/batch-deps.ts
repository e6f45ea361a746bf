import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { Capabilities } from '../../storage/db.js';
import type { Database } from '../../storage/schema.js';

/** What batch use cases need; `now` is injected so scheduling is tested without sleeping. */
export interface BatchDeps {
  db: Kysely<Database>;
  capabilities: Capabilities;
  config: Config;
  now: () => Date;
}
