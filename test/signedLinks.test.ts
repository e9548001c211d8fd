// Signed unsubscribe links: the keys from the environment, rotation, and what a token refuses.
import { LINK_LIFETIME_MS, LINK_SECRETS_ENV, newLinkSecret, parseLinkKeys, signUnsubscribe, verifyUnsubscribe } from '../activities/signedLinks';

const target = { journeyId: 'lead-mina@example.com', email: 'mina@example.com' };
const secret = 'a'.repeat(64);

test('keys come as id:secret pairs; a missing or malformed value is refused naming the variable', () => {
  expect(parseLinkKeys(`k2:${secret}, k1:${'b'.repeat(40)}`)).toEqual({ signing: 'k2', secrets: new Map([['k2', secret], ['k1', 'b'.repeat(40)]]) });
  expect(() => parseLinkKeys(undefined)).toThrow(`${LINK_SECRETS_ENV} is not set`);
  expect(() => parseLinkKeys('  ')).toThrow(`${LINK_SECRETS_ENV} is not set`);
  expect(() => parseLinkKeys(secret)).toThrow(`${LINK_SECRETS_ENV}: entry 1 is not valid`);
  expect(() => parseLinkKeys(`k1:${secret},k2:short`)).toThrow(`${LINK_SECRETS_ENV}: entry 2 is not valid`);
  expect(() => parseLinkKeys(`bad id:${secret}`)).toThrow('entry 1 is not valid');
  expect(() => parseLinkKeys(`k1:${secret},k1:${secret}`)).toThrow('key id "k1" appears twice');
  // The message never repeats the secret it was given.
  let message = '';
  try {
    parseLinkKeys(`k1:${secret},k2:short-secret-value`);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toContain('entry 2 is not valid');
  expect(message).not.toContain('short-secret-value');
  expect(parseLinkKeys(newLinkSecret('dev')).signing).toBe('dev');
});

test('a token verifies to its journey and address until it expires; any change to it is refused', () => {
  const keys = parseLinkKeys(`k1:${secret}`);
  const now = Date.parse('2026-11-27T00:00:00Z');
  const token = signUnsubscribe(target, keys, now);
  expect(verifyUnsubscribe(token, keys, now)).toEqual(target);
  expect(verifyUnsubscribe(token, keys, now + LINK_LIFETIME_MS - 1_000)).toEqual(target);
  expect(verifyUnsubscribe(token, keys, now + LINK_LIFETIME_MS + 1_000)).toEqual({ refused: 'this unsubscribe link has expired' });
  const refused = { refused: 'not a valid unsubscribe link' };
  const [id, payload, signature] = token.split('.') as [string, string, string];
  const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
  for (const bad of [`${id}.${flip(payload)}.${signature}`, `${id}.${payload}.${flip(signature)}`, `k9.${payload}.${signature}`, `${id}.${payload}`, '', 'lead-mina@example.com']) {
    expect(verifyUnsubscribe(bad, keys, now)).toEqual(refused);
  }
  // Signed with another secret under the same key id: refused.
  expect(verifyUnsubscribe(signUnsubscribe(target, parseLinkKeys(`k1:${'c'.repeat(64)}`), now), keys, now)).toEqual(refused);
});

test('rotation: a new key signs, and links signed with the old one work while it is still listed', () => {
  const old = parseLinkKeys(`k1:${secret}`);
  const rotated = parseLinkKeys(`k2:${'d'.repeat(64)},k1:${secret}`);
  const before = signUnsubscribe(target, old);
  expect(verifyUnsubscribe(before, rotated)).toEqual(target);
  const after = signUnsubscribe(target, rotated);
  expect(after.startsWith('k2.')).toBe(true);
  expect(verifyUnsubscribe(after, rotated)).toEqual(target);
  // Once the old key is dropped, its links stop working.
  expect(verifyUnsubscribe(before, parseLinkKeys(`k2:${'d'.repeat(64)}`))).toEqual({ refused: 'not a valid unsubscribe link' });
});
