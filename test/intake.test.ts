// The HTTP intake on the dev server: what a web form, a CRM webhook or an unsubscribe link sends.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { Client, Connection } from '@temporalio/client';
import { LINK_LIFETIME_MS, parseLinkKeys, signUnsubscribe, verifyUnsubscribe } from '../activities/signedLinks';
import { createIntake } from '../client/intake';
import { rateLimitsFromEnv } from '../client/rateLimits';
import { signWebhook, WEBHOOK_SECRETS_ENV, webhookSecretsFromEnv } from '../client/webhookSignature';
import { listJourneys, type JourneyFilter, type ListedJourney } from '../client/journeyList';
import { startMailSink, type MailSink } from '../client/mailSink';
import { fittingLead, nurtureLead, sandboxConfigFile, sdrNoticeAbout } from './support/fixtures';
import { LEAD_EVENTS } from '../workflows/messages';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, devServerEnv, testWorker } from './support/temporal';

const taskQueue = 'intake-tests';
let env: TestWorkflowEnvironment;
let sink: MailSink;
let db: TestStore;
let worker: Worker;
let running: Promise<void>;
let intake: FastifyInstance;
let base: string;
/** The private API's key, as a CRM would hold it. */
let auth: { authorization: string };

beforeAll(async () => {
  const [bundle] = await Promise.all([
    bundleWorkflows(),
    devServerEnv().then((e) => (env = e)),
    startMailSink().then((s) => (sink = s)),
    embeddedTestStore().then((s) => (db = s)),
  ]);
  worker = await testWorker(env, bundle, sink, db.store, taskQueue);
  running = worker.run();
  auth = { authorization: `Bearer ${(await db.store.createApiKey('intake tests')).key}` };
  intake = createIntake({ client: env.client, store: db.store, taskQueue, configFile: sandboxConfigFile() });
  base = await intake.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await intake?.close();
  worker?.shutdown();
  await running;
  await sink?.close();
  await db?.close();
  await env?.teardown();
});

// The intake's replies are JSON whose shape each test asserts.
const json = async (res: Response): Promise<any> => res.json();
const post = (path: string, body?: unknown, type = 'application/json', headers: Record<string, string> = auth) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { ...headers, ...(body === undefined ? {} : { 'content-type': type }) }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const get = (path: string, headers: Record<string, string> = auth) => fetch(`${base}${path}`, { headers });

test('a lead posted by a form starts its journey once, however often it is posted', async () => {
  const lead = fittingLead();
  const first = await post('/leads', lead);
  expect(first.status).toBe(201);
  expect(await json(first)).toEqual({ leadId: `lead-${lead.email}`, started: true });
  await sink.waitFor(sdrNoticeAbout(lead));

  const again = await post('/leads', lead);
  expect(again.status).toBe(200);
  expect(await json(again)).toEqual({ leadId: `lead-${lead.email}`, started: false });

  const state = await json(await get(`/leads/by-email/${encodeURIComponent(lead.email)}`));
  expect(state).toMatchObject({ stage: 'working', status: 'RUNNING' });
  expect(state.slas).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'inbound-first-touch', kind: 'first-touch', status: 'pending' })]));
});

test('the private API answers 401 without a live API key, the same for every way of failing, and starts nothing', async () => {
  const before = await env.client.workflow.count();
  const made = await db.store.createApiKey('to be revoked');
  const lead = fittingLead();
  const tries: Record<string, string>[] = [
    {},
    { authorization: 'Bearer' },
    { authorization: 'Basic dXNlcjpwYXNz' },
    { authorization: 'Bearer pw_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    { authorization: `Bearer ${made.key.slice(0, -1)}${made.key.endsWith('A') ? 'B' : 'A'}` },
  ];
  expect(await db.store.revokeApiKey(made.id)).toBe(true);
  tries.push({ authorization: `Bearer ${made.key}` });
  for (const headers of tries) {
    for (const res of [await post('/leads', lead, 'application/json', headers), await get(`/leads/by-email/${encodeURIComponent(lead.email)}`, headers), await post(`/leads/by-email/${encodeURIComponent(lead.email)}/events/touched`, {}, 'application/json', headers)]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await json(res)).toEqual({ error: 'unauthorized: send a live API key as "Authorization: Bearer KEY" (`pipewright apikey create`)' });
    }
  }
  expect(await env.client.workflow.count()).toEqual(before);
  // The store keeps a hash: the key itself is nowhere in it.
  expect(JSON.stringify(await db.store.apiKeys())).not.toContain(made.key.slice(16));
  expect((await db.store.apiKeys()).find((k) => k.id === made.id)).toMatchObject({ name: 'to be revoked', revokedAt: expect.any(Date) });
  expect(await db.store.revokeApiKey(made.id)).toBe(false);
});

test("a key's daily cap of new journeys: over it POST /leads answers 429 and starts nothing; a lead already running does not count", async () => {
  const capped = { authorization: `Bearer ${(await db.store.createApiKey('capped form', 2)).key}` };
  const [a, b, c] = [fittingLead(), fittingLead(), fittingLead()];
  expect((await post('/leads', a, 'application/json', capped)).status).toBe(201);
  // Already running: answered, and not counted.
  expect((await post('/leads', a, 'application/json', capped)).status).toBe(200);
  expect((await post('/leads', b, 'application/json', capped)).status).toBe(201);
  const before = await env.client.workflow.count();
  const over = await post('/leads', c, 'application/json', capped);
  expect(over.status).toBe(429);
  expect(await json(over)).toEqual({ error: 'daily cap reached: this key may start 2 new journeys a day (UTC)' });
  expect(await env.client.workflow.count()).toEqual(before);
  // Another key is not held back.
  expect((await post('/leads', c)).status).toBe(201);
});

test("the web site's lead form: a site key from its own origin starts an inbound journey; another origin, no key or an API key is refused and starts nothing", async () => {
  const site = 'https://www.acme.example';
  const { key: siteKey } = await db.store.createApiKey('website form', undefined, [site]);
  const form = (fields: Record<string, string>, headers: Record<string, string> = { origin: site }) =>
    fetch(`${base}/forms/leads`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
  const lead = fittingLead();
  const fields = { siteKey, email: lead.email, firstName: lead.firstName, company: lead.company, industry: lead.industry, region: lead.region, employees: '1,200', lastName: '' };
  const before = await env.client.workflow.count();

  for (const [why, res, status] of [
    ['another origin', await form(fields, { origin: 'https://evil.example' }), 403],
    ['no origin', await form(fields, {}), 403],
    ['no key', await form({ ...fields, siteKey: '' }), 401],
    ['an API key', await form({ ...fields, siteKey: auth.authorization!.slice('Bearer '.length) }), 401],
  ] as const) {
    expect([why, res.status]).toEqual([why, status]);
  }
  // The site key is public: on the private API it is no key at all.
  expect((await post('/leads', lead, 'application/json', { authorization: `Bearer ${siteKey}` })).status).toBe(401);
  const bad = await form({ ...fields, employees: 'a few' });
  expect([bad.status, (await json(bad)).problems]).toEqual([400, ['employees: expected number, received string']]);
  expect(await env.client.workflow.count()).toEqual(before);

  const taken = await form(fields, { origin: site, accept: 'text/html' });
  expect([taken.status, taken.headers.get('access-control-allow-origin')]).toEqual([202, site]);
  expect(await taken.text()).toContain('Thank you');
  const started = await env.client.workflow.getHandle(`lead-${lead.email}`).describe();
  expect(started.status.name).toBe('RUNNING');
  expect((await json(await get(`/leads/by-email/${encodeURIComponent(lead.email)}`))).qualification.fit.reasons).toEqual(expect.arrayContaining([expect.stringContaining('employees 1200')]));
  // Posted again (a double click), the same answer, and still one journey.
  const again = await form(fields, { referer: `${site}/contact-us?utm=x` });
  expect([again.status, await json(again)]).toEqual([202, { accepted: true }]);

  const preflight = await fetch(`${base}/forms/leads`, { method: 'OPTIONS', headers: { origin: site, 'access-control-request-method': 'POST' } });
  expect([preflight.status, preflight.headers.get('access-control-allow-headers')]).toEqual([204, 'content-type, pipewright-site-key']);
});

test('a bad lead is answered 400 with every problem, and starts nothing', async () => {
  const before = await env.client.workflow.count();
  const res = await post('/leads', { ...fittingLead(), employees: -3, region: undefined });
  expect(res.status).toBe(400);
  expect(await json(res)).toEqual({
    error: 'lead is not valid',
    problems: ['region: required (expected string)', 'employees: Too small: expected number to be >0'],
  });
  expect((await post('/leads', '{"email": ')).status).toBe(400);
  expect(await env.client.workflow.count()).toEqual(before);
});

test('events from a CRM reach the journey; unknown leads and events are refused with a reason', async () => {
  const lead = fittingLead();
  await post('/leads', lead);
  await sink.waitFor(sdrNoticeAbout(lead));
  const show = async () => json(await get(`/leads/by-email/${encodeURIComponent(lead.email)}`));
  const firstTouch = (s: any) => s.slas.find((c: { kind: string }) => c.kind === 'first-touch');
  const { owner } = await show();
  // A touch that does not say who made it is kept, but only the owner's touch meets the SLA.
  expect((await post(`/leads/by-email/${encodeURIComponent(lead.email)}/events/touched`)).status).toBe(202);
  let state = await show();
  expect(state.repTouches).toHaveLength(1);
  expect(firstTouch(state).status).toBe('pending');
  expect((await post(`/leads/by-email/${encodeURIComponent(lead.email)}/events/touched`, { by: owner.email, channel: 'call' })).status).toBe(202);
  state = await show();
  expect(firstTouch(state).status).toBe('met');
  expect(state.repTouches).toEqual([expect.not.objectContaining({ by: expect.anything() }), expect.objectContaining({ by: owner.email, channel: 'call' })]);

  const unknownEvent = await post(`/leads/by-email/${encodeURIComponent(lead.email)}/events/meeting`);
  expect(unknownEvent.status).toBe(400);
  expect((await json(unknownEvent)).error).toBe(`event: "meeting" is not a lead event; expected one of ${LEAD_EVENTS.join(', ')}`);
  expect((await post('/leads/by-email/nobody%40nowhere.example/events/touched')).status).toBe(404);
  // An address where a journey ID belongs is refused, never taken for the address's journey.
  const notAnId = await post(`/leads/${encodeURIComponent(lead.email)}/events/touched`);
  expect(notAnId.status).toBe(400);
  expect((await json(notAnId)).error).toMatch(/^id: expected a lead's journey ID such as "lead-jane@acme.com"/);
});

/** The token of the unsubscribe link in the e-mail to `address`, as the recipient's mail client sees it. */
async function unsubscribeToken(address: string): Promise<string> {
  const mail = await sink.waitFor((m) => m.to.includes(address));
  const link = /Unsubscribe: (https:\S+)/.exec(mail.text)?.[1];
  expect(link).toBeDefined();
  // The same link in List-Unsubscribe (the header unfolded), where one-click mail clients find it.
  expect(mail.raw.replace(/\r?\n[ \t]+/g, '')).toContain(`<${link}>`);
  return new URL(link!).searchParams.get('lead')!;
}
/** The public face: an unsubscribe needs no API key, only the link's token. */
const unsubscribe = (token: string, type = 'application/x-www-form-urlencoded', body = 'List-Unsubscribe=One-Click') =>
  post(`/unsubscribe?lead=${encodeURIComponent(token)}`, body, type, {});

test("the List-Unsubscribe link carries a signed token; its one-click post stops the cadence, and its page only offers a button", async () => {
  const lead = nurtureLead();
  const { leadId } = await json(await post('/leads', lead));
  const token = await unsubscribeToken(lead.email);
  // Neither the journey's ID nor the address is the link's key.
  expect(token).not.toContain(lead.email);
  expect(verifyUnsubscribe(token)).toEqual({ journeyId: leadId, email: lead.email });

  const page = await fetch(`${base}/unsubscribe?lead=${encodeURIComponent(token)}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<button type="submit">Unsubscribe</button>');
  expect((await env.client.workflow.getHandle(leadId).describe()).status.name).toBe('RUNNING');

  expect((await unsubscribe(token)).status).toBe(200);
  const result = await env.client.workflow.getHandle(leadId).result();
  expect(result).toMatchObject({ stage: 'ended', outcome: 'unsubscribed' });
  expect(await db.store.suppressionFor(lead.email, 'email')).toMatchObject({ channel: 'all', reason: 'unsubscribed', source: 'link' });
  // Again and again, after the journey has ended, and as the multipart post RFC 8058 senders use: 200 every time.
  const boundary = 'pipewright-test';
  const multipart = `--${boundary}\r\ncontent-disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--${boundary}--\r\n`;
  const repeats = await Promise.all([unsubscribe(token), unsubscribe(token), unsubscribe(token, `multipart/form-data; boundary=${boundary}`, multipart)]);
  expect(repeats.map((r) => r.status)).toEqual([200, 200, 200]);
});

test('a lead is named by its journey ID or by its address, never guessed: an address that begins with "lead-" is a lead of its own', async () => {
  const gen = fittingLead();
  const prefixed = fittingLead({ email: `lead-${gen.email}` });
  expect(await json(await post('/leads', gen))).toEqual({ leadId: `lead-${gen.email}`, started: true });
  expect(await json(await post('/leads', prefixed))).toEqual({ leadId: `lead-lead-${gen.email}`, started: true });
  await sink.waitFor(sdrNoticeAbout(prefixed));
  const touches = async (path: string) => (await json(await get(path))).repTouches.length;

  const byAddress = await post(`/leads/by-email/${encodeURIComponent(prefixed.email)}/events/touched`);
  expect(await json(byAddress)).toEqual({ event: 'touched', to: `lead-lead-${gen.email}`, delivered: true });
  expect(await touches(`/leads/by-email/${encodeURIComponent(prefixed.email)}`)).toBe(1);
  expect(await touches(`/leads/by-email/${encodeURIComponent(gen.email)}`)).toBe(0);

  // The same text as an ID is gen's journey: the path says which it is.
  expect(await json(await post(`/leads/${encodeURIComponent(prefixed.email)}/events/touched`))).toEqual({ event: 'touched', to: `lead-${gen.email}`, delivered: true });
  expect(await touches(`/leads/lead-${encodeURIComponent(gen.email)}`)).toBe(1);
  expect(await touches(`/leads/by-email/${encodeURIComponent(prefixed.email.toUpperCase())}`)).toBe(1);
  const notAnAddress = await get('/leads/by-email/not-an-address');
  expect([notAnAddress.status, (await json(notAnAddress)).error]).toEqual([400, 'email: expected a lead\'s e-mail address such as "jane@acme.com", got "not-an-address"']);
});

test('an unsubscribe link that was forged, altered, expired or repeated is refused with 400, and unsubscribes nobody', async () => {
  const victim = `victim.${Date.now()}@example.com`;
  const genuine = signUnsubscribe({ journeyId: `lead-${victim}`, email: victim });
  const [kid, payload] = genuine.split('.');
  const altered = `${kid}.${Buffer.from(JSON.stringify({ j: `lead-${victim}`, e: 'someone.else@example.com', x: 4102444800 })).toString('base64url')}.${genuine.split('.')[2]}`;
  const forged = signUnsubscribe({ journeyId: `lead-${victim}`, email: victim }, parseLinkKeys(`${kid}:${'x'.repeat(64)}`));
  const expired = signUnsubscribe({ journeyId: `lead-${victim}`, email: victim }, undefined, Date.now() - LINK_LIFETIME_MS - 60_000);
  for (const [token, why] of [
    [`lead-${victim}`, 'not a valid unsubscribe link'],
    [altered, 'not a valid unsubscribe link'],
    [forged, 'not a valid unsubscribe link'],
    [`${kid}.${payload}`, 'not a valid unsubscribe link'],
    [expired, 'this unsubscribe link has expired'],
  ]) {
    for (const res of [await fetch(`${base}/unsubscribe?lead=${encodeURIComponent(token!)}`), await unsubscribe(token!)]) {
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(why);
    }
  }
  const repeated = await post(`/unsubscribe?lead=${encodeURIComponent(genuine)}&lead=${encodeURIComponent(genuine)}`, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
  expect(repeated.status).toBe(400);
  expect(await repeated.text()).toContain('lead: expected one value');
  expect((await post('/unsubscribe')).status).toBe(400);
  expect(await db.store.suppressionFor(victim, 'email')).toBeUndefined();
  expect(await db.store.suppressionFor('someone.else@example.com', 'email')).toBeUndefined();
});

test('an unsubscribe after the journey ended, or without any journey, is still recorded and answered 200', async () => {
  const nobody = `never-added.${Date.now()}@example.com`;
  const res = await unsubscribe(signUnsubscribe({ journeyId: `lead-${nobody}`, email: nobody }));
  expect(res.status).toBe(200);
  expect(await db.store.suppressionFor(nobody, 'sms')).toMatchObject({ channel: 'all', source: 'link' });

  const lead = fittingLead();
  const { leadId } = await json(await post('/leads', lead));
  await sink.waitFor(sdrNoticeAbout(lead));
  expect((await post(`/leads/${leadId}/events/disqualified`)).status).toBe(202);
  expect(await env.client.workflow.getHandle(leadId).result()).toMatchObject({ outcome: 'disqualified' });
  expect(await db.store.suppressionFor(lead.email, 'email')).toBeUndefined();
  const late = await post(`/leads/${leadId}/events/unsubscribed`);
  expect(late.status).toBe(202);
  expect(await json(late)).toEqual({ event: 'unsubscribed', to: leadId, delivered: false });
  expect(await db.store.suppressionFor(lead.email, 'email')).toMatchObject({ channel: 'all', source: 'api' });
});

test('a lead longer than RFC 5321 or sane lengths allow is refused naming the field; a huge body gets 413 at once', async () => {
  const before = await env.client.workflow.count();
  const long = await post('/leads', { ...fittingLead(), email: `${'a'.repeat(990)}@example.com`, company: 'c'.repeat(201) });
  expect(long.status).toBe(400);
  expect((await json(long)).problems).toEqual([
    'email: expected at most 254 characters (RFC 5321)',
    'email: expected at most 64 characters before the @ (RFC 5321)',
    'company: expected at most 200 characters',
  ]);
  const local = await post('/leads', { ...fittingLead(), email: `${'a'.repeat(65)}@example.com` });
  expect((await json(local)).problems).toEqual(['email: expected at most 64 characters before the @ (RFC 5321)']);
  // A NUL reached PostgreSQL and answered 500 (found by test/intakeFuzz.test.ts); a line break in a name would reach subjects.
  const control = await post('/leads', { ...fittingLead(), firstName: 'Dana\u0000', company: 'Acme\r\nBcc: x@evil.example', fields: { note: 'a\u0000b', lines: 'two\nlines' } });
  expect((await json(control)).problems).toEqual([
    'firstName: expected one line of text, without control characters',
    'company: expected one line of text, without control characters',
    'fields.note: expected text without NUL characters',
  ]);
  const began = Date.now();
  const huge = await post('/leads', { ...fittingLead(), fields: { blob: 'x'.repeat(20 * 1024 * 1024) } });
  expect(huge.status).toBe(413);
  expect(Date.now() - began).toBeLessThan(10_000);
  expect(await env.client.workflow.count()).toEqual(before);
});

test('while Temporal cannot be reached the intake answers 503 with Retry-After within seconds, and a server error tells the caller nothing inside', async () => {
  const logged: string[] = [];
  const away = await Connection.connect({ address: '127.0.0.1:1', connectTimeout: 1_000 }).catch(() => undefined);
  const client = new Client({ connection: away ?? Connection.lazy({ address: '127.0.0.1:1' }) });
  const down = createIntake({ client, store: db.store, taskQueue, configFile: sandboxConfigFile(), log: (line) => logged.push(line) });
  const url = await down.listen({ host: '127.0.0.1', port: 0 });
  try {
    const began = Date.now();
    const res = await fetch(`${url}/leads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(fittingLead()) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(JSON.stringify(await res.json())).not.toContain('127.0.0.1');
    expect(logged.join('\n')).toContain('Temporal is unavailable');
    // An unsubscribe is stored even so: every send checks the store.
    const nobody = `while-down.${Date.now()}@example.com`;
    const unsub = await fetch(`${url}/unsubscribe?lead=${encodeURIComponent(signUnsubscribe({ journeyId: `lead-${nobody}`, email: nobody }))}`, { method: 'POST' });
    expect(unsub.status).toBe(200);
    expect(await db.store.suppressionFor(nobody, 'email')).toMatchObject({ source: 'link' });
  } finally {
    await down.close();
    await client.connection.close().catch(() => undefined);
  }
  // The same intake on the reachable server recovered nothing it needs to: the shared one still answers.
  expect((await post('/leads', fittingLead())).status).toBe(201);
});

test('each API key and each client address has its own rate limit: over it, 429 with Retry-After; a bad limit names its variable', async () => {
  const limited = createIntake({ client: env.client, store: db.store, taskQueue, configFile: sandboxConfigFile(), rateLimits: { perKey: 3, perIp: 2 } });
  const url = await limited.listen({ host: '127.0.0.1', port: 0 });
  try {
    const other = { authorization: `Bearer ${(await db.store.createApiKey('second form')).key}` };
    const show = (headers: Record<string, string>) => fetch(`${url}/leads/by-email/nobody%40nowhere.example`, { headers });
    expect((await Promise.all([show(auth), show(auth), show(auth)])).map((r) => r.status)).toEqual([404, 404, 404]);
    const over = await show(auth);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await json(over)).error).toMatch(/^too many requests: at most 3 a minute; try again in /);
    // Another key, and the public face, count on their own.
    expect((await show(other)).status).toBe(404);
    const token = encodeURIComponent(signUnsubscribe({ journeyId: 'lead-x@example.com', email: 'x@example.com' }));
    const pages = await Promise.all([1, 2, 3].map(() => fetch(`${url}/unsubscribe?lead=${token}`)));
    expect(pages.map((r) => r.status).sort()).toEqual([200, 200, 429]);
  } finally {
    await limited.close();
  }
  expect(rateLimitsFromEnv({})).toEqual({ perKey: 600, perIp: 60 });
  expect(rateLimitsFromEnv({ PIPEWRIGHT_RATE_LIMIT_PER_KEY: '1200' })).toEqual({ perKey: 1200, perIp: 60 });
  expect(() => rateLimitsFromEnv({ PIPEWRIGHT_RATE_LIMIT_PER_IP: 'lots' })).toThrow('PIPEWRIGHT_RATE_LIMIT_PER_IP must be a whole number of requests per minute, 1 or more; it is "lots"');
});

test('a CRM webhook signed over timestamp and raw body is taken once; a bad, stale or replayed signature is refused with 401', async () => {
  const [oldSecret, newSecret] = ['o'.repeat(40), 'n'.repeat(40)];
  process.env[WEBHOOK_SECRETS_ENV] = `${newSecret},${oldSecret}`;
  const crm = createIntake({ client: env.client, store: db.store, taskQueue, configFile: sandboxConfigFile(), log: () => undefined });
  delete process.env[WEBHOOK_SECRETS_ENV];
  const url = await crm.listen({ host: '127.0.0.1', port: 0 });
  const send = (body: string, signature?: string) =>
    fetch(`${url}/webhooks/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature && { 'pipewright-signature': signature }) }, body });
  try {
    const lead = fittingLead();
    await post('/leads', lead);
    await sink.waitFor(sdrNoticeAbout(lead));
    const body = JSON.stringify({ email: lead.email, event: 'touched', detail: { channel: 'call' } });
    const signature = signWebhook(oldSecret, body);
    const taken = await send(body, signature);
    expect(taken.status).toBe(202);
    expect(await json(taken)).toEqual({ event: 'touched', to: `lead-${lead.email}`, delivered: true });
    expect((await json(await get(`/leads/by-email/${encodeURIComponent(lead.email)}`))).repTouches).toEqual([expect.objectContaining({ channel: 'call' })]);

    const now = Math.floor(Date.now() / 1000);
    for (const [why, res] of [
      ['replayed', await send(body, signature)],
      ['no header', await send(body)],
      ['another secret', await send(body, signWebhook('x'.repeat(40), body))],
      ['a changed body', await send(body.replace('call', 'email'), signWebhook(newSecret, body, now))],
      ['ten minutes old', await send(body, signWebhook(newSecret, body, now - 600))],
      ['ten minutes ahead', await send(body, signWebhook(newSecret, body, now + 600))],
    ] as const) {
      expect([why, res.status]).toEqual([why, 401]);
    }
    expect((await json(await get(`/leads/by-email/${encodeURIComponent(lead.email)}`))).repTouches).toHaveLength(1);
    const shapeless = JSON.stringify({ lead: lead.email, kind: 'touched' });
    const bad = await send(shapeless, signWebhook(newSecret, shapeless));
    expect(bad.status).toBe(400);
    expect((await json(bad)).problems).toEqual(['event: required (expected string)', 'lead: unknown key "lead"; expected one of id, email, event, detail', 'kind: unknown key "kind"; expected one of id, email, event, detail']);
    const both = JSON.stringify({ id: `lead-${lead.email}`, email: lead.email, event: 'touched' });
    expect((await json(await send(both, signWebhook(newSecret, both)))).problems).toEqual(["id: expected exactly one of id (the journey ID) or email (the lead's address)"]);
    // The intake without secrets takes no webhook at all.
    expect((await post('/webhooks/events', body, 'application/json', { 'pipewright-signature': signWebhook(newSecret, body) })).status).toBe(401);
  } finally {
    await crm.close();
  }
  expect(() => webhookSecretsFromEnv({ [WEBHOOK_SECRETS_ENV]: 'short' })).toThrow(`${WEBHOOK_SECRETS_ENV}: secret 1 is shorter than 32 characters`);
});

test('search attributes filter journeys by stage, owner and SLA status, and carry no lead data', async () => {
  const lead = fittingLead();
  const { leadId } = await json(await post('/leads', lead));
  await sink.waitFor(sdrNoticeAbout(lead));
  const { owner } = await json(await get(`/leads/${leadId}`));
  const find = async (filter: JourneyFilter) => {
    const found: ListedJourney[] = [];
    for await (const j of listJourneys(env.client, filter, 1000)) found.push(j);
    return found;
  };
  // Visibility is eventually consistent: wait until the journey shows up.
  const deadline = Date.now() + 20_000;
  let mine: ListedJourney | undefined;
  while (!mine && Date.now() < deadline) {
    mine = (await find({ stage: 'working', owner: owner.email, sla: 'pending' })).find((j) => j.leadId === leadId);
    if (!mine) await new Promise((r) => setTimeout(r, 250));
  }
  expect(mine).toMatchObject({ stage: 'working', owner: owner.email, source: 'inbound', sla: 'pending', status: 'RUNNING' });
  expect((await find({ stage: 'nurturing' })).map((j) => j.leadId)).not.toContain(leadId);
  expect((await find({ sla: 'breached' })).map((j) => j.leadId)).not.toContain(leadId);
  const attributes = JSON.stringify((await env.client.workflow.getHandle(leadId).describe()).searchAttributes);
  expect(attributes).not.toContain(lead.email);
  expect(attributes).not.toContain(lead.company);
});
