/** A fresh PostgreSQL database for a spawned server (which cannot be pointed at a schema), dropped after. */
export { createScratchDatabase } from './test-postgres.js';
