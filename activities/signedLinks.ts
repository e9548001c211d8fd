// Unsubscribe links that cannot be forged. A marketing e-mail's link carries a token signed with
// HMAC-SHA256: who it unsubscribes (the journey and the address) and until when the link works.
// A bare lead ID or address would let anyone who knows someone's address unsubscribe them.
//
// Keys come from the environment, PIPEWRIGHT_LINK_SECRETS="id:secret[,id:secret...]": the first
// signs, every one verifies, so a key is rotated by putting a new one first and dropping the old
// one once its links no longer matter. The key id travels in the token; the secret never does.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const LINK_SECRETS_ENV = 'PIPEWRIGHT_LINK_SECRETS';
/** An unsubscribe link works this long after its e-mail was sent (CAN-SPAM asks for 30 days at least). */
export const LINK_LIFETIME_MS = 2 * 365 * 86_400_000;
const MIN_SECRET_LENGTH = 32;

export interface LinkKeys {
  /** The key that signs new links. */
  signing: string;
  secrets: ReadonlyMap<string, string>;
}

/** Who an unsubscribe link unsubscribes: the journey to stop, and the address to suppress. */
export interface UnsubscribeTarget {
  journeyId: string;
  email: string;
}

/** Parses PIPEWRIGHT_LINK_SECRETS; throws naming the variable and what was expected. */
export function parseLinkKeys(value: string | undefined): LinkKeys {
  const expected = `expected "id:secret" pairs separated by commas, each secret at least ${MIN_SECRET_LENGTH} characters (e.g. "k1:" followed by \`openssl rand -hex 32\`)`;
  if (!value?.trim()) throw new Error(`${LINK_SECRETS_ENV} is not set: unsubscribe links are signed with it; ${expected}`);
  const secrets = new Map<string, string>();
  for (const [i, pair] of value.split(',').entries()) {
    const at = pair.indexOf(':');
    const id = pair.slice(0, at).trim();
    const secret = pair.slice(at + 1).trim();
    if (at < 0 || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || secret.length < MIN_SECRET_LENGTH) {
      throw new Error(`${LINK_SECRETS_ENV}: entry ${i + 1} is not valid (its key id must be 1-16 letters, digits, - or _); ${expected}`);
    }
    if (secrets.has(id)) throw new Error(`${LINK_SECRETS_ENV}: key id "${id}" appears twice`);
    secrets.set(id, secret);
  }
  return { signing: [...secrets.keys()][0]!, secrets };
}

/** A fresh key in PIPEWRIGHT_LINK_SECRETS' form, for `pipewright dev` and simulations. */
export function newLinkSecret(id = 'dev'): string {
  return `${id}:${randomBytes(32).toString('hex')}`;
}

let current: LinkKeys | undefined;

/** The keys of this process: set by `useLinkKeys`, else read once from the environment. */
export function linkKeys(): LinkKeys {
  current ??= parseLinkKeys(process.env[LINK_SECRETS_ENV]);
  return current;
}

export function useLinkKeys(keys: LinkKeys): void {
  current = keys;
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const mac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest();

export function signUnsubscribe(target: UnsubscribeTarget, keys: LinkKeys = linkKeys(), now = Date.now()): string {
  const payload = b64(JSON.stringify({ j: target.journeyId, e: target.email, x: Math.floor((now + LINK_LIFETIME_MS) / 1000) }));
  const signed = `${keys.signing}.${payload}`;
  return `${signed}.${b64(mac(keys.secrets.get(keys.signing)!, signed))}`;
}

/** The link's target, or why it is refused; the reason names no key or secret. */
export function verifyUnsubscribe(token: string, keys: LinkKeys = linkKeys(), now = Date.now()): UnsubscribeTarget | { refused: string } {
  const parts = token.split('.');
  const refused = { refused: 'not a valid unsubscribe link' };
  if (parts.length !== 3) return refused;
  const [id, payload, signature] = parts as [string, string, string];
  const secret = keys.secrets.get(id);
  if (!secret) return refused;
  const expected = mac(secret, `${id}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refused;
  let claims: { j?: unknown; e?: unknown; x?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return refused;
  }
  if (typeof claims.j !== 'string' || typeof claims.e !== 'string' || typeof claims.x !== 'number') return refused;
  if (claims.x * 1000 < now) return { refused: 'this unsubscribe link has expired' };
  return { journeyId: claims.j, email: claims.e };
}

/**
 * For `pipewright dev`: PIPEWRIGHT_LINK_SECRETS when set, else a key made once and kept in `file`
 * (readable by its owner only), so the links of earlier e-mails still work after a restart.
 */
export function devLinkKeys(file: string): { keys: LinkKeys; from: string } {
  if (process.env[LINK_SECRETS_ENV]) return { keys: parseLinkKeys(process.env[LINK_SECRETS_ENV]), from: LINK_SECRETS_ENV };
  if (!existsSync(file)) writeFileSync(file, newLinkSecret(), { mode: 0o600 });
  return { keys: parseLinkKeys(readFileSync(file, 'utf8')), from: file };
}
