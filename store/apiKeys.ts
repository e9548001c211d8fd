// API keys for the intake's private API: `pw_<id>_<secret>`. The id finds the row; the secret is
// 32 random bytes, so a plain SHA-256 of it is safe to keep (no password stretching needed: there
// is nothing to guess), and it is compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ApiKey {
  id: string;
  name: string;
  /** New journeys the key may start a day (UTC); none: no cap. */
  dailyCap?: number;
  /** Set for a site key: the web origins whose lead form may use it (and it is good for nothing else). */
  origins?: string[];
  createdAt: Date;
  lastUsedAt?: Date;
  revokedAt?: Date;
}

const KEY = /^pw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What a live key lets its holder do, as verifyApiKey answers it. */
export type VerifiedKey = Pick<ApiKey, 'id' | 'name' | 'dailyCap' | 'origins'>;

/** A new key: what is shown to the person once, and what the store keeps. */
export function newApiKey(): { id: string; key: string; secretSha256: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `pw_${id}_${secret}`, secretSha256: sha256(secret) };
}

/** The id and secret of a presented key, or undefined when it cannot be one of ours. */
export function parseApiKey(presented: string): { id: string; secret: string } | undefined {
  const match = KEY.exec(presented);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function secretMatches(secret: string, storedSha256: string): boolean {
  const given = Buffer.from(sha256(secret), 'hex');
  const stored = Buffer.from(storedSha256, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
