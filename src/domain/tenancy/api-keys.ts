import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function base62(length: number): string {
  // Rejection sampling keeps the alphabet uniform (256 is not a multiple of 62).
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** Length of the public part of a key that is stored in clear and shown in listings. */
export const KEY_PREFIX_LENGTH = 12;

export interface GeneratedKey {
  /** The whole secret, shown to its owner once. */
  secret: string;
  /** The first characters of the secret, stored to find the key and shown in listings. */
  prefix: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
}

/** A new API key `rk_…` (or master key `rmk_…`): 43 random base62 characters after the marker. */
export function generateKey(marker: 'rk' | 'rmk'): GeneratedKey {
  const secret = `${marker}_${base62(43)}`;
  return { secret, prefix: keyPrefix(secret), hash: hashKey(secret) };
}

export function keyPrefix(secret: string): string {
  const marker = secret.indexOf('_');
  return secret.slice(0, marker + 1 + KEY_PREFIX_LENGTH);
}

export function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash in time independent of where they differ. */
export function keyMatchesHash(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashKey(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
