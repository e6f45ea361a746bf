import { randomBytes } from 'node:crypto';

/** Ids a caller may choose for orgs, workspaces, agents and deployments. */
export const SLUG_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
/** Agent variable names. */
export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
/** The batch API's ids (users, phone numbers, batches, calls). */
export const HEX24_PATTERN = '^[0-9a-f]{24}$';
/** A phone number in E.164: + and 8 to 15 digits. */
export const E164_PATTERN = '^\\+[1-9][0-9]{6,14}$';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lowercase slug such as `org-k3j9x0a2b1c4`; matches SLUG_PATTERN. */
export function newSlugId(prefix: string, length = 12): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return `${prefix}-${out}`;
}

/** A 24-hex id, the shape the batch API shows. */
export function newHex24Id(): string {
  return randomBytes(12).toString('hex');
}

export function nowIso(): string {
  return new Date().toISOString();
}
