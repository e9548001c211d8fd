// The system of record, against both databases it runs on: PGlite served over TCP (what
// `pipewright dev` and the tests use) and a real PostgreSQL server (what production uses).
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import {
  migrate,
  openStore,
  readMigrations,
  startEmbeddedStore,
  storeUrlFromEnv,
  type EmbeddedStore,
  type JourneyEvent,
  type Store,
  type TouchIntent,
  type TouchLimits,
} from '../store';
import { serveEngine } from '../store/embedded';
import { startPGliteEngine, type Engine } from '../store/pgliteEngine';
import { pgliteServer, postgresServer, withClient, type Server } from './support/store';

jest.setTimeout(60_000);
const SERVER_START = 120_000;

/** Fails instead of hanging when the database stops answering. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let serial = 0;
/** Each test gets its own addresses and keys, as the tests of one backend share a database. */
const unique = (prefix: string) => `${prefix}-${++serial}-${Date.now().toString(36)}`;

describe.each([
  ['PGlite served over TCP', pgliteServer],
  ['a real PostgreSQL server', postgresServer],
])('the store on %s', (_backend, startServer) => {
  let server: Server;
  let store: Store;

  beforeAll(async () => {
    server = await startServer();
    store = await openStore(server.url);
  }, SERVER_START);

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  describe('schema', () => {
    test('a fresh database gets each migration once, even when two processes start together', async () => {
      const url = await server.freshDatabase();
      const pools = [new Pool({ connectionString: url }), new Pool({ connectionString: url })];
      try {
        const applied = await Promise.all(pools.map((pool) => migrate(pool)));
        expect(applied.flat().sort()).toEqual(readMigrations().map((m) => m.version));
        const reopened = await openStore(url);
        await reopened.close();
        expect(await migrate(pools[0]!)).toEqual([]);
        const { rows } = await pools[0]!.query('select version from schema_migrations order by version');
        expect(rows.map((row) => row.version)).toEqual(readMigrations().map((m) => m.version));
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    });

    test('two workers opening the same new database at once both come up', async () => {
      const url = await server.freshDatabase();
      const stores = await Promise.all([openStore(url), openStore(url)]);
      try {
        await stores[0].suppress({ email: 'a@example.com', channel: 'all', reason: 'unsubscribed', source: 'link' });
        expect(await stores[1].suppressionFor('a@example.com', 'email')).toMatchObject({ reason: 'unsubscribed' });
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    test('the URL it reports hides the password', async () => {
      const url = new URL(server.url);
      url.password = 's3cret';
      // Trust authentication ignores the password, so the store still opens.
      const withPassword = await openStore(url.toString(), { max: 1 });
      try {
        expect(withPassword.url).not.toContain('s3cret');
        expect(withPassword.url).toContain('***');
      } finally {
        await withPassword.close();
      }
    });
  });

  describe('contacts', () => {
    test('a later form that leaves fields out keeps what an earlier one said', async () => {
      const email = `${unique('ada')}@example.com`;
      await store.upsertContact({ email: `  ${email.toUpperCase()} `, firstName: 'Ada', company: 'Analytical Engines' });
      await store.upsertContact({ email, lastName: 'Lovelace' });
      const contact = await store.contact(email);
      expect(contact).toMatchObject({ email, firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines' });
      expect(contact!.updatedAt.getTime()).toBeGreaterThanOrEqual(contact!.createdAt.getTime());
    });

    test('a contact we know nothing about has no fields rather than nulls', async () => {
      const email = `${unique('bare')}@example.com`;
      expect(await store.contact(email)).toBeUndefined();
      await store.upsertContact({ email });
      const contact = await store.contact(email);
      expect(Object.keys(contact!).sort()).toEqual(['createdAt', 'email', 'updatedAt']);
    });
  });

  describe('API keys', () => {
    test('a key verifies until revoked; the store holds only its hash; another key or a near miss never verifies', async () => {
      const a = await store.createApiKey('website form');
      const b = await store.createApiKey('crm');
      expect(a.key).not.toBe(b.key);
      expect(await store.verifyApiKey(a.key)).toEqual({ id: a.id, name: 'website form' });
      // The secret follows 'pw_' and the 12-character id; it may itself contain '_'.
      const [id, secret] = [a.key.slice(3, 15), a.key.slice(16)];
      for (const miss of [`pw_${id}_${b.key.slice(16)}`, `pw_${b.id}_${secret}`, a.key.toUpperCase(), `${a.key}x`, secret, '']) {
        expect(await store.verifyApiKey(miss)).toBeUndefined();
      }
      const listed = await store.apiKeys();
      expect(listed.find((k) => k.id === a.id)).toMatchObject({ name: 'website form', createdAt: expect.any(Date), lastUsedAt: expect.any(Date) });
      expect(JSON.stringify(listed)).not.toContain(secret);
      expect(await store.revokeApiKey(a.id)).toBe(true);
      expect(await store.verifyApiKey(a.key)).toBeUndefined();
      expect(await store.verifyApiKey(b.key)).toEqual({ id: b.id, name: 'crm' });
      expect(await store.revokeApiKey(a.id)).toBe(false);
    });
  });

  describe('API key daily caps', () => {
    test('ten concurrent takes against a cap of three get exactly three; a release gives one back; the next day starts afresh', async () => {
      const { id } = await store.createApiKey('capped', 3);
      const taken = await Promise.all(Array.from({ length: 10 }, () => store.takeDailyJourney(id, '2026-11-27', 3)));
      expect(taken.filter(Boolean)).toHaveLength(3);
      await store.releaseDailyJourney(id, '2026-11-27');
      expect(await store.takeDailyJourney(id, '2026-11-27', 3)).toBe(true);
      expect(await store.takeDailyJourney(id, '2026-11-27', 3)).toBe(false);
      expect(await store.takeDailyJourney(id, '2026-11-28', 3)).toBe(true);
      expect((await store.apiKeys()).find((k) => k.id === id)).toMatchObject({ dailyCap: 3 });
    });
  });

  describe('suppressions', () => {
    test('an unsubscribe on every channel stops e-mail and SMS', async () => {
      const email = `${unique('lead')}@example.com`;
      expect(await store.suppress({ email, channel: 'all', reason: 'unsubscribed', source: 'link' })).toEqual({ created: true });
      expect(await store.suppressionFor(email, 'email')).toMatchObject({ channel: 'all', reason: 'unsubscribed', source: 'link' });
      expect(await store.suppressionFor(email, 'sms')).toMatchObject({ channel: 'all' });
    });

    test('an SMS opt-out stops SMS only', async () => {
      const email = `${unique('lead')}@example.com`;
      await store.suppress({ email, channel: 'sms', reason: 'replied STOP', source: 'api' });
      expect(await store.suppressionFor(email, 'sms')).toMatchObject({ channel: 'sms', reason: 'replied STOP' });
      expect(await store.suppressionFor(email, 'email')).toBeUndefined();
    });

    test('the address is matched however it was typed', async () => {
      const email = `${unique('lead')}@example.com`;
      await store.suppress({ email: ` ${email.toUpperCase()}`, channel: 'email', reason: 'bounced: 550', source: 'bounce' });
      expect(await store.suppressionFor(email, 'email')).toMatchObject({ email });
    });

    test('suppressing again keeps the first reason', async () => {
      const email = `${unique('lead')}@example.com`;
      await store.suppress({ email, channel: 'email', reason: 'unsubscribed', source: 'link' });
      const again = await store.suppress({ email, channel: 'email', reason: 'asked by phone', source: 'cli' });
      expect(again).toEqual({ created: false });
      expect(await store.suppressions(email)).toEqual([
        { email, channel: 'email', reason: 'unsubscribed', source: 'link', createdAt: expect.any(Date) },
      ]);
    });

    test('resubscribing to one channel lifts that channel; to all lifts everything', async () => {
      const email = `${unique('lead')}@example.com`;
      for (const channel of ['email', 'sms', 'all'] as const) {
        await store.suppress({ email, channel, reason: 'unsubscribed', source: 'link' });
      }
      expect(await store.unsuppress(email, 'sms')).toBe(1);
      expect((await store.suppressions(email)).map((s) => s.channel).sort()).toEqual(['all', 'email']);
      expect(await store.unsuppress(email, 'sms')).toBe(0);
      expect(await store.unsuppress(email, 'all')).toBe(2);
      expect(await store.suppressions(email)).toEqual([]);
      expect(await store.suppressionFor(email, 'email')).toBeUndefined();
    });
  });

  describe('the sends ledger', () => {
    const intent = (journeyId: string, step = 'step-1') => ({
      key: `${journeyId}:${step}`,
      journeyId,
      kind: 'cadence' as const,
      channel: 'email' as const,
      recipient: 'Lead@Example.com',
      messageId: `<${journeyId}.${step}@pipewright>`,
    });

    test('a send claimed ten times at once is one row with ten attempts', async () => {
      const journeyId = unique('journey');
      const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimSend(intent(journeyId))));
      expect(claims.map((c) => c.attempts).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const rows = await store.sends({ journeyId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'sending', attempts: 10, recipient: 'lead@example.com' });
      expect(rows[0]).not.toHaveProperty('sentAt');
      expect(rows[0]).not.toHaveProperty('detail');
    });

    test('a message that was sent stays sent, with one sent event, whatever a retry reports', async () => {
      const journeyId = unique('journey');
      const { key } = await store.claimSend(intent(journeyId));
      const at = new Date('2030-01-02T03:04:05.678Z');
      const sent = await store.settleSend(key, { status: 'sent', at, messageId: '<real@smtp>' });
      expect(sent).toMatchObject({ status: 'sent', sentAt: at, messageId: '<real@smtp>', attempts: 1 });

      const retried = await store.settleSend(key, { status: 'failed', detail: 'timeout', at: new Date() });
      expect(retried).toEqual(sent);
      expect(await store.claimSend(intent(journeyId))).toEqual(sent);

      const events = await store.events({ journeyId });
      expect(events).toEqual([
        {
          key: `${key}:sent`,
          journeyId,
          type: 'sent',
          at,
          detail: { sendKey: key, kind: 'cadence', channel: 'email', recipient: 'lead@example.com' },
        },
      ]);
    });

    test('two workers settling one send at once record one outcome, and both report it', async () => {
      const journeyId = unique('journey');
      const { key } = await store.claimSend(intent(journeyId));
      const at = new Date();
      const [a, b] = await Promise.all([
        store.settleSend(key, { status: 'bounced', detail: '550 no such user', at }),
        store.settleSend(key, { status: 'skipped', detail: 'suppressed', at }),
      ]);
      expect(a).toEqual(b);
      const events = await store.events({ journeyId });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: a.status, detail: { detail: a.detail } });
    });

    test('a transient error is kept while the send is retried', async () => {
      const journeyId = unique('journey');
      const { key } = await store.claimSend(intent(journeyId));
      await store.noteSendError(key, 'ECONNRESET from smtp.example.com');
      expect(await store.claimSend(intent(journeyId))).toMatchObject({
        status: 'sending',
        attempts: 2,
        detail: 'ECONNRESET from smtp.example.com',
      });
      const failed = await store.settleSend(key, { status: 'failed', detail: 'gave up after 2 attempts', at: new Date() });
      await store.noteSendError(key, 'late error from a stale attempt');
      expect(await store.sends({ journeyId })).toEqual([failed]);
      expect(failed).toMatchObject({ status: 'failed', detail: 'gave up after 2 attempts' });
      expect(failed).not.toHaveProperty('sentAt');
    });

    test('settling a send that was never claimed is an error', async () => {
      await expect(store.settleSend(unique('nothing'), { status: 'sent', at: new Date() })).rejects.toThrow(/No send with key/);
    });

    test("a contact's sends are listed newest first", async () => {
      const journeyId = unique('journey');
      for (const step of ['step-1', 'step-2', 'step-3']) await store.claimSend(intent(journeyId, step));
      expect((await store.sends({ journeyId })).map((s) => s.key)).toEqual(
        ['step-3', 'step-2', 'step-1'].map((step) => `${journeyId}:${step}`),
      );
      expect(await store.sends({ journeyId, limit: 1 })).toHaveLength(1);
      const byRecipient = await store.sends({ recipient: ' LEAD@example.com ', limit: 500 });
      expect(byRecipient.filter((s) => s.journeyId === journeyId)).toHaveLength(3);
    });
  });

  describe('touch limits', () => {
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;
    const T = Date.UTC(2030, 2, 4, 8); // 2030-03-04T08:00:00.000Z on the journeys' clock
    const oneADay: TouchLimits = { perContact: { perDay: 1, perWeek: 3 } };
    const touch = (contact: string, step: string, atMs: number, limits: TouchLimits = oneADay, more: Partial<TouchIntent> = {}) => {
      const journeyId = `${contact}:journey`;
      return store.claimTouch({
        key: `${journeyId}:${step}`,
        journeyId,
        kind: 'cadence',
        channel: 'email',
        recipient: contact,
        contact,
        at: new Date(atMs),
        limits,
        ...more,
      });
    };

    test('a touch within the limits is claimed at its time; the next within a day is deferred, with an event', async () => {
      const contact = `${unique('lead')}@example.com`;
      const first = await touch(contact, 'step-1', T, oneADay, { contact: ` ${contact.toUpperCase()}` });
      expect(first).toMatchObject({ status: 'sending', attempts: 1, contact, recipient: contact, touchAt: new Date(T) });
      expect(first).not.toHaveProperty('deferredUntil');

      const second = await touch(contact, 'step-2', T + 2 * HOUR);
      const reason = 'at most 1 touch a day to this contact (last at 2030-03-04T08:00:00.000Z)';
      expect(second).toMatchObject({ status: 'deferred', attempts: 0, contact, deferredUntil: new Date(T + DAY), detail: reason });
      expect(second).not.toHaveProperty('touchAt');
      // An activity retried while deferred asks again: the same deferral, recorded once.
      expect(await touch(contact, 'step-2', T + 3 * HOUR)).toMatchObject({ status: 'deferred', deferredUntil: new Date(T + DAY) });

      const journeyId = `${contact}:journey`;
      expect(await store.events({ journeyId, types: ['deferred'] })).toEqual([
        {
          key: `${second.key}:deferred:2030-03-05T08:00:00.000Z`,
          journeyId,
          type: 'deferred',
          at: new Date(T + 2 * HOUR),
          detail: { sendKey: second.key, contact, until: '2030-03-05T08:00:00.000Z', reason },
        },
      ]);
      expect((await store.sends({ journeyId })).map((s) => [s.key, s.status])).toEqual([
        [second.key, 'deferred'],
        [first.key, 'sending'],
      ]);
      // claimSend does not send a deferred message behind the limits' back.
      expect(await store.claimSend({ key: second.key, journeyId, kind: 'cadence', channel: 'email', recipient: contact })).toMatchObject({
        status: 'deferred',
        attempts: 0,
        deferredUntil: new Date(T + DAY),
      });
    });

    test('a deferred message claimed again once allowed is sent then, and counts from then', async () => {
      const contact = `${unique('lead')}@example.com`;
      await touch(contact, 'step-1', T);
      const deferred = await touch(contact, 'step-2', T + HOUR);
      expect(deferred).toMatchObject({ status: 'deferred', deferredUntil: new Date(T + DAY) });

      const claimed = await touch(contact, 'step-2', deferred.deferredUntil!.getTime());
      expect(claimed).toMatchObject({ key: deferred.key, status: 'sending', attempts: 1, touchAt: new Date(T + DAY) });
      expect(claimed).not.toHaveProperty('deferredUntil');
      expect(claimed).not.toHaveProperty('detail');

      expect(await touch(contact, 'step-3', T + DAY + HOUR)).toMatchObject({ status: 'deferred', deferredUntil: new Date(T + 2 * DAY) });
      // The week holds three touches by then: the fourth waits for the first to leave the week.
      await touch(contact, 'step-3', T + 2 * DAY);
      expect(await touch(contact, 'step-4', T + 3 * DAY)).toMatchObject({
        status: 'deferred',
        deferredUntil: new Date(T + 7 * DAY),
        detail: 'at most 3 touches a week to this contact',
      });
    });

    test('a retried claim of a touch still sending is not a new touch and is never deferred', async () => {
      const contact = `${unique('lead')}@example.com`;
      const first = await touch(contact, 'step-1', T);
      const retried = await touch(contact, 'step-1', T + HOUR);
      expect(retried).toMatchObject({ status: 'sending', attempts: 2, touchAt: new Date(T) });
      const sent = await store.settleSend(first.key, { status: 'sent', at: new Date(T + HOUR) });
      expect(await touch(contact, 'step-1', T + 2 * HOUR)).toEqual(sent);
      expect(await store.events({ journeyId: first.journeyId, types: ['deferred'] })).toEqual([]);
    });

    test('a touch that was skipped or failed does not count against the contact', async () => {
      const contact = `${unique('lead')}@example.com`;
      const first = await touch(contact, 'step-1', T);
      await store.settleSend(first.key, { status: 'skipped', detail: 'suppressed', at: new Date(T) });
      expect(await touch(contact, 'step-2', T + HOUR)).toMatchObject({ status: 'sending', touchAt: new Date(T + HOUR) });
    });

    test('a mailbox limit counts every contact the mailbox writes to', async () => {
      const mailbox = `${unique('sdr')}@pipewright.example`;
      const limits: TouchLimits = { perContact: { perDay: 1 }, perMailbox: { perDay: 2 } };
      const claims = [];
      for (const [i, name] of ['a', 'b', 'c'].entries()) {
        claims.push(await touch(`${unique(name)}@example.com`, 'step-1', T + i * HOUR, limits, { mailbox: mailbox.toUpperCase() }));
      }
      expect(claims.map((c) => c.status)).toEqual(['sending', 'sending', 'deferred']);
      expect(claims[0]).toMatchObject({ mailbox });
      expect(claims[2]).toMatchObject({ deferredUntil: new Date(T + DAY), detail: 'mailbox daily limit of 2 reached' });
      const elsewhere = await touch(`${unique('d')}@example.com`, 'step-1', T + 2 * HOUR, limits, { mailbox: `other-${mailbox}` });
      expect(elsewhere.status).toBe('sending');
    });

    test('twenty journeys touching one contact at the same instant: exactly one goes out', async () => {
      const contact = `${unique('popular')}@example.com`;
      // Every pooled connection open beforehand, so the claims really overlap instead of queueing on connects.
      await Promise.all(Array.from({ length: 10 }, () => store.touches(contact, new Date(0))));
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) => touch(contact, `step-${i}`, T, { perContact: { perDay: 1 } }, { journeyId: `${contact}:journey-${i}` })),
      );
      expect(claims.filter((c) => c.status === 'sending')).toHaveLength(1);
      const deferred = claims.filter((c) => c.status === 'deferred');
      expect(deferred).toHaveLength(19);
      for (const c of deferred) expect(c.deferredUntil).toEqual(new Date(T + DAY));
      const touches = await store.touches(contact, new Date(T - DAY));
      expect(touches.filter((s) => s.status === 'sending')).toHaveLength(1);
      expect(touches).toHaveLength(20);
    });

    test('twenty contacts through one mailbox at once: exactly its daily limit goes out', async () => {
      const mailbox = `${unique('busy')}@pipewright.example`;
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          touch(`${unique(`c${i}`)}@example.com`, 'step-1', T, { perContact: { perDay: 1 }, perMailbox: { perDay: 5 } }, { mailbox }),
        ),
      );
      expect(claims.filter((c) => c.status === 'sending')).toHaveLength(5);
      expect(claims.filter((c) => c.status === 'deferred')).toHaveLength(15);
    });

    test("a contact's touches since a time, newest first, with the deferred ones still to go", async () => {
      const contact = `${unique('lead')}@example.com`;
      const old = await touch(contact, 'step-0', T - 10 * DAY);
      const first = await touch(contact, 'step-1', T);
      const later = await touch(contact, 'step-2', T + HOUR);
      expect((await store.touches(` ${contact.toUpperCase()}`, new Date(T - DAY))).map((s) => s.key)).toEqual([later.key, first.key]);
      expect((await store.touches(contact, new Date(0))).map((s) => s.key)).toEqual([later.key, first.key, old.key]);
      expect(await store.touches(`${unique('nobody')}@example.com`, new Date(0))).toEqual([]);
    });
  });

  describe('config versions', () => {
    let configs: Store;

    beforeAll(async () => {
      // Config history is per database: a fresh one starts with none.
      configs = await openStore(await server.freshDatabase());
    }, SERVER_START);

    afterAll(async () => {
      await configs?.close();
    });

    test('applying, reapplying, changing and rolling back a config', async () => {
      expect(await configs.activeConfig()).toBeUndefined();
      expect(await configs.configHistory()).toEqual([]);

      const v1 = { source: 'teams:\n  - name: emea\n', config: { teams: [{ name: 'emea', reps: ['a@example.com'] }], n: 1.5 } };
      expect(await configs.applyConfig({ ...v1, by: 'ana' })).toEqual({ version: 1, created: true, activated: true });
      expect(await configs.activeConfig()).toEqual({ version: 1, config: v1.config, source: v1.source, activatedAt: expect.any(Date) });
      // The same text again, by anyone: nothing new.
      expect(await configs.applyConfig({ ...v1, by: 'ben' })).toEqual({ version: 1, created: false, activated: false });

      const v2 = { source: 'teams:\n  - name: apac\n', config: { teams: [{ name: 'apac' }] } };
      expect(await configs.applyConfig(v2)).toEqual({ version: 2, created: true, activated: true });
      expect(await configs.activeConfig()).toMatchObject({ version: 2, config: v2.config });
      // Back to the first text: its version again, active again.
      expect(await configs.applyConfig({ ...v1, by: 'ana' })).toEqual({ version: 1, created: false, activated: true });
      expect(await configs.activeConfig()).toMatchObject({ version: 1, source: v1.source });

      const history = await configs.configHistory();
      const sha = (text: string) => createHash('sha256').update(text).digest('hex');
      expect(history).toEqual([
        { version: 1, activatedAt: expect.any(Date), activatedBy: 'ana', sha256: sha(v1.source) },
        { version: 2, activatedAt: expect.any(Date), sha256: sha(v2.source) },
        { version: 1, activatedAt: expect.any(Date), activatedBy: 'ana', sha256: sha(v1.source) },
      ]);
      expect(await configs.configVersion(2)).toEqual({ version: 2, config: v2.config, source: v2.source, createdAt: expect.any(Date) });
      expect(await configs.configVersion(99)).toBeUndefined();
    });

    test('the same new config applied by five processes at once is one version, activated once', async () => {
      const input = { source: `teams: [${unique('team')}]\n`, config: ['a top-level array', { kept: true }] };
      const results = await Promise.all(Array.from({ length: 5 }, () => configs.applyConfig(input)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(results.filter((r) => r.activated)).toHaveLength(1);
      expect(new Set(results.map((r) => r.version)).size).toBe(1);
      expect(await configs.activeConfig()).toMatchObject({ version: results[0]!.version, config: input.config });
    });
  });

  describe('the journey event log', () => {
    const event = (journeyId: string, type: JourneyEvent['type'], minute: number, detail?: Record<string, unknown>): JourneyEvent => ({
      key: `${journeyId}:${type}:${minute}`,
      journeyId,
      type,
      at: new Date(Date.UTC(2030, 0, 1, 9, minute)),
      ...(detail && { detail }),
    });

    test('recording the same events twice stores each once', async () => {
      const journeyId = unique('journey');
      const events = [
        event(journeyId, 'assigned', 0, { rep: 'sam@example.com', rule: 'enterprise', tags: ['emea', 'inbound'] }),
        event(journeyId, 'notified', 1),
        event(journeyId, 'sla-met', 7, { minutes: 7 }),
      ];
      await store.recordEvents(events);
      await store.recordEvents([...events, events[1]!]);
      await store.recordEvents([]);
      expect(await store.events({ journeyId })).toEqual(events);
    });

    test('events are read oldest first, by type and since a time', async () => {
      const journeyId = unique('journey');
      const breached = event(journeyId, 'sla-breached', 30);
      const escalated = event(journeyId, 'escalated', 31);
      const assigned = event(journeyId, 'assigned', 0);
      await store.recordEvents([escalated, breached, assigned]);
      expect(await store.events({ journeyId })).toEqual([assigned, breached, escalated]);
      expect(await store.events({ journeyId, types: ['escalated', 'assigned'] })).toEqual([assigned, escalated]);
      expect(await store.events({ journeyId, since: breached.at, limit: 1 })).toEqual([breached]);
    });
  });

  test('a broken query from one connection does not hold up anyone else', async () => {
    const email = `${unique('lead')}@example.com`;
    await withClient(server.url, async (careless) => {
      const work = Promise.all([
        store.suppress({ email, channel: 'email', reason: 'unsubscribed', source: 'link' }),
        store.suppressionFor(email, 'email'),
      ]);
      await expect(careless.query('selec 1')).rejects.toThrow(/syntax error/);
      await expect(careless.query('select 1 / $1::int', [0])).rejects.toThrow(/division by zero/);
      await expect(
        careless.query(`insert into suppressions (email, channel, reason, source) values ($1, 'fax', 'x', 'y')`, [email]),
      ).rejects.toThrow(/check constraint/);
      await expect(careless.query('select * from no_such_table where id = $1', [1])).rejects.toThrow(/does not exist/);
      await within(10_000, 'the store after another connection failed', work);
      // And inside a transaction, which holds PGlite's single session until the rollback.
      await careless.query('begin');
      await expect(careless.query('select 1 / 0')).rejects.toThrow(/division by zero/);
      const waiting = store.suppressionFor(email, 'email');
      await careless.query('rollback');
      expect(await within(10_000, 'the store after a failed transaction', waiting)).toMatchObject({ email });
    });
  });
});

describe('the embedded store', () => {
  test('keeps its data across a restart with the same folder', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pipewright-store-'));
    try {
      const first = await startEmbeddedStore({ dataDir });
      const store = await openStore(first.url);
      await store.suppress({ email: 'kept@example.com', channel: 'all', reason: 'unsubscribed', source: 'link' });
      await store.close();
      await first.close();

      const second = await startEmbeddedStore({ dataDir });
      const pool = new Pool({ connectionString: second.url });
      try {
        expect(await migrate(pool)).toEqual([]);
        const reopened = await openStore(second.url);
        expect(await reopened.suppressionFor('kept@example.com', 'sms')).toMatchObject({ reason: 'unsubscribed' });
        await reopened.close();
      } finally {
        await pool.end();
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, SERVER_START);

  // Without the SessionQueue, pglite-socket's own queue fails each of these (see store/sessionQueue.ts).
  describe('sharing one PGlite session between connections', () => {
    let engine: Engine;
    let served: EmbeddedStore;
    let url: string;
    /** Set by a test to make the engine fail the next message it is given. */
    let faultNext = false;

    beforeAll(async () => {
      engine = await startPGliteEngine();
      const faulty: Engine = {
        exec(message, onData) {
          if (!faultNext) return engine.exec(message, onData);
          faultNext = false;
          return Promise.reject(new Error('injected engine fault'));
        },
        close: () => engine.close(),
      };
      served = await serveEngine(faulty);
      url = served.url;
      await withClient(url, (client) => client.query('create table notes (body text)'));
    }, SERVER_START);

    afterAll(async () => {
      await served?.close();
    });

    test('a fault inside PGlite drops that connection and no other', async () => {
      const unlucky = new Client(url);
      unlucky.on('error', () => undefined);
      const other = new Client(url);
      await other.connect();
      try {
        faultNext = true; // the unlucky client's startup message is the next one PGlite runs
        await expect(unlucky.connect().then(() => unlucky.query('select 1'))).rejects.toThrow();
        const { rows } = await within(10_000, 'a query after the fault', other.query('select $1::int as n', [42]));
        expect(rows).toEqual([{ n: 42 }]);
      } finally {
        faultNext = false;
        await other.end();
        await unlucky.end().catch(() => undefined);
      }
    });

    test("a query sent in pieces is not overtaken by another connection's query", async () => {
      const slow = await RawConnection.open(served.port);
      const other = new Client(url);
      await other.connect();
      try {
        slow.send(parse('select 1 as from_slow'), flush());
        await slow.until('1'); // ParseComplete
        let otherDone = false;
        const otherQuery = other.query('select $1::int as from_other', [2]).finally(() => (otherDone = true));
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(otherDone).toBe(false); // it waits for the half-sent query to finish
        slow.send(bind(), describePortal(), execute(), sync());
        expect(await slow.until('Z')).toContain('from_slow');
        expect((await otherQuery).rows).toEqual([{ from_other: 2 }]);
      } finally {
        slow.close();
        await other.end();
      }
    });

    test('a connection that vanishes inside a transaction leaves nothing behind', async () => {
      const doomed = await RawConnection.open(served.port);
      doomed.send(query('begin'));
      await doomed.until('Z');
      doomed.send(query(`insert into notes values ('never committed')`));
      await doomed.until('Z');
      doomed.close();
      const { rows } = await within(10_000, 'a query after the transaction was abandoned', withClient(url, (c) => c.query('select count(*)::int as n from notes')));
      expect(rows).toEqual([{ n: 0 }]);
    });
  });
});

describe('finding the database', () => {
  test('without PIPEWRIGHT_DATABASE_URL it is the store `pipewright dev` serves', () => {
    expect(storeUrlFromEnv({})).toBe('postgres://postgres@127.0.0.1:5433/postgres');
  });

  test('PIPEWRIGHT_DATABASE_URL names any PostgreSQL', () => {
    const url = 'postgresql://app:pw@db.internal:5432/pipewright?sslmode=require';
    expect(storeUrlFromEnv({ PIPEWRIGHT_DATABASE_URL: url })).toBe(url);
  });

  test('anything else is refused with the form it should take, without echoing it', () => {
    for (const wrong of ['localhost:5432', 'mysql://root:hunter2@db/app', 'not a url']) {
      const attempt = () => storeUrlFromEnv({ PIPEWRIGHT_DATABASE_URL: wrong });
      expect(attempt).toThrow(/PIPEWRIGHT_DATABASE_URL.*postgres:\/\/USER/);
      expect(attempt).not.toThrow(/hunter2/);
    }
  });
});

// The few frontend messages the session tests send by hand, where pg would send them all at once.
const cstring = (text: string) => Buffer.from(`${text}\0`);
function message(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(type), length, body]);
}
const query = (sql: string) => message('Q', cstring(sql));
const parse = (sql: string) => message('P', Buffer.concat([cstring(''), cstring(sql), Buffer.alloc(2)]));
const bind = () => message('B', Buffer.concat([cstring(''), cstring(''), Buffer.alloc(6)]));
const describePortal = () => message('D', Buffer.concat([Buffer.from('P'), cstring('')]));
const execute = () => message('E', Buffer.concat([cstring(''), Buffer.alloc(4)]));
const sync = () => message('S', Buffer.alloc(0));
const flush = () => message('H', Buffer.alloc(0));

class RawConnection {
  private received = Buffer.alloc(0);
  private waiter: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (data) => {
      this.received = Buffer.concat([this.received, data]);
      this.waiter?.();
    });
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const connection = new RawConnection(socket);
    const params = Buffer.concat([cstring('user'), cstring('postgres'), cstring('database'), cstring('postgres'), Buffer.alloc(1)]);
    const header = Buffer.alloc(8);
    header.writeInt32BE(params.length + 8, 0);
    header.writeInt32BE(196608, 4); // protocol 3.0
    connection.send(Buffer.concat([header, params]));
    await connection.until('Z');
    return connection;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Consumes whole backend messages up to and including one of `type`; returns them as text. */
  async until(type: string): Promise<string> {
    for (;;) {
      let offset = 0;
      while (offset + 5 <= this.received.length) {
        const end = offset + 1 + this.received.readInt32BE(offset + 1);
        if (end > this.received.length) break;
        if (String.fromCharCode(this.received[offset]!) === type) {
          const text = this.received.subarray(0, end).toString('latin1');
          this.received = this.received.subarray(end);
          return text;
        }
        offset = end;
      }
      await within(10_000, `backend message ${type}`, new Promise<void>((resolve) => (this.waiter = resolve)));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
