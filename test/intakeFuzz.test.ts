// The intake under generated traffic: 10,000 requests (valid, invalid and hostile) against the real
// intake on the dev server. Every answer must be the 2xx or 4xx the schema and the credentials call
// for, never a 5xx, always within seconds; and no journey may exist that a 2xx did not start.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import twilio from 'twilio';
import { signUnsubscribe } from '../activities/signedLinks';
import { createIntake } from '../client/intake';
import { startMailSink, type MailSink } from '../client/mailSink';
import { signWebhook, WEBHOOK_SECRETS_ENV } from '../client/webhookSignature';
import { LeadSchema } from '../config/lead';
import { leadJourneyId } from '../config/vocabulary';
import { sandboxConfigFile } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, devServerEnv, testWorker } from './support/temporal';

// PIPEWRIGHT_FUZZ_RUNS: fewer while working on the intake; the suite runs all of them.
const RUNS = Number(process.env.PIPEWRIGHT_FUZZ_RUNS ?? 10_000);
const ANSWER_WITHIN_MS = 10_000;
const site = 'https://www.fuzz.example';
const twilioToken = 'fuzz-twilio-auth-token';
const webhookSecret = 'w'.repeat(40);

let env: TestWorkflowEnvironment;
let db: TestStore;
let sink: MailSink;
let worker: Worker;
let running: Promise<void>;
let intake: FastifyInstance;
let base: string;
let apiKey: string;
let siteKey: string;
let revokedKey: string;
/** Journey IDs a 201 (or a form's 202) said were started, and every answer by status. */
const started = new Set<string>();
const answers = new Map<number, number>();

beforeAll(async () => {
  const [bundle] = await Promise.all([bundleWorkflows(), devServerEnv().then((e) => (env = e)), embeddedTestStore().then((s) => (db = s)), startMailSink().then((s) => (sink = s))]);
  // A worker runs the journeys that start: a look-up asks a journey for its state.
  worker = await testWorker(env, bundle, sink, db.store, 'fuzz');
  running = worker.run();
  apiKey = (await db.store.createApiKey('fuzz')).key;
  siteKey = (await db.store.createApiKey('fuzz site', undefined, [site])).key;
  const revoked = await db.store.createApiKey('revoked');
  await db.store.revokeApiKey(revoked.id);
  revokedKey = revoked.key;
  process.env[WEBHOOK_SECRETS_ENV] = webhookSecret;
  intake = createIntake({
    client: env.client,
    store: db.store,
    taskQueue: 'fuzz',
    configFile: sandboxConfigFile(),
    log: () => undefined,
    rateLimits: { perKey: 1_000_000, perIp: 1_000_000 },
    twilioAuthToken: twilioToken,
  });
  delete process.env[WEBHOOK_SECRETS_ENV];
  base = await intake.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

afterAll(async () => {
  await intake?.close();
  worker?.shutdown();
  await running;
  await sink?.close();
  await db?.close();
  await env?.teardown();
});

/** A request, and the statuses the schema and its credentials allow for it. */
interface Probe {
  what: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  allowed: number[];
  /** The journey a 2xx to it starts. */
  starts?: string;
}

// ----- what strangers and careless clients send

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('{{lead.email}}', '{{{owner}}}', '\r\nBcc: victim@example.com', '<script>alert(1)</script>', "'; drop table contacts; --", '\u0000', '../../etc/passwd', '%00', 'ＡＢＣ'),
  fc.string({ minLength: 300, maxLength: 2_000 }),
);
/** Addresses the lead schema takes: what a signed link can only ever carry. */
const realAddress = fc.tuple(fc.stringMatching(/^[a-z0-9]{1,20}$/), fc.stringMatching(/^[a-z0-9]{1,20}$/)).map(([local, domain]) => `${local}@${domain}.example`);
const anything: fc.Arbitrary<unknown> = fc.oneof(hostileText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
const address = fc.oneof(
  fc.emailAddress(),
  fc.tuple(fc.stringMatching(/^[a-z0-9.]{1,20}$/), fc.stringMatching(/^[a-z0-9-]{1,20}$/)).map(([local, domain]) => `${local}@${domain}.example`),
  fc.constantFrom('lead-gen@victim.example', `${'a'.repeat(65)}@example.com`, `a@${'b'.repeat(250)}.com`, 'no-at-sign', 'Dana@Example.COM'),
  hostileText,
);
/** A lead as a form or a CRM might send it: mostly well-formed, often with one field wrong. */
const mostly = <T>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: odd });
const leadBody = fc
  .record({
    email: mostly(realAddress, address),
    firstName: mostly(fc.constantFrom('Dana', 'Jürgen', '민준'), hostileText),
    company: mostly(fc.constant('Northwind'), hostileText),
    industry: mostly(fc.constantFrom('manufacturing', 'software', 'retail'), fc.constantFrom('', 'x'.repeat(101))),
    region: fc.constantFrom('us-northeast', 'kr', 'emea'),
    employees: mostly(fc.integer({ min: 1, max: 100_000 }), fc.oneof(fc.integer({ min: -5, max: 0 }), fc.constant('120'), fc.double())),
    source: mostly(fc.constantFrom('inbound', 'outbound'), fc.constant('partner')),
  })
  .chain((lead) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(lead as Record<string, unknown>) },
      fc.record({ key: fc.constantFrom('email', 'firstName', 'employees', 'source', 'phone', 'fields', 'bant', 'extra', '__proto__', 'constructor'), value: anything }).map(({ key, value }) => ({ ...lead, [key]: value })),
      fc.constantFrom('email', 'firstName', 'company').map((key) => Object.fromEntries(Object.entries(lead).filter(([k]) => k !== key))),
    ),
  );
/** Who a private request claims to be: mostly the live key, else each way of not having one. */
type Claim = [name: string, headers: Record<string, string>, ok: boolean];
const privateAuth = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Claim>(['key', {}, true]) },
  fc.constantFrom<Claim>(
    ['no key', {}, false],
    ['garbage key', { authorization: 'Bearer pw_0123456789ab_not-a-real-secret-at-all-not-a-real-secret-0' }, false],
    ['basic auth', { authorization: 'Basic YWRtaW46YWRtaW4=' }, false],
    ['revoked key', {}, false],
    ['site key', {}, false],
  ),
);
const withAuth = ([name, headers, ok]: Claim): Claim => {
  if (name === 'key') return [name, { authorization: `Bearer ${apiKey}` }, ok];
  if (name === 'revoked key') return [name, { authorization: `Bearer ${revokedKey}` }, ok];
  if (name === 'site key') return [name, { authorization: `Bearer ${siteKey}` }, ok];
  return [name, headers, ok];
};

const JSON_TYPE = { 'content-type': 'application/json' };
/** The oracle: what the lead schema says of the body as the intake will parse it. */
const validLead = (body: unknown) => body !== undefined && LeadSchema.safeParse(JSON.parse(JSON.stringify(body))).success;

const postLead = fc.tuple(privateAuth, leadBody).map(([a, lead]): Probe => {
  const [name, headers, ok] = withAuth(a);
  const valid = validLead(lead);
  return {
    what: `POST /leads (${name}, ${valid ? 'valid' : 'invalid'} lead)`,
    method: 'POST',
    path: '/leads',
    headers: { ...headers, ...JSON_TYPE },
    body: JSON.stringify(lead),
    allowed: !ok ? [401] : valid ? [200, 201] : [400],
    ...(ok && valid && { starts: leadJourneyId(lead as { email: string }) }),
  };
});

const rawLeadBody = fc.tuple(privateAuth, fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{"email": ', '[]', 'null', '"a string"', '{"email": "x@y.example"}{}'), fc.constant('x'.repeat(70_000))), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml')).map(
  ([a, body, type]): Probe => {
    const [name, headers, ok] = withAuth(a);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const big = Buffer.byteLength(body) > 64 * 1024;
    // Past a key, a body is refused as too big (413), of a type no route takes (415) or not a lead (400).
    const valid = type === 'application/json' && validLead(parsed);
    const allowed = !ok ? [401] : big ? [413, 415] : type !== 'application/json' ? [400, 415] : valid ? [200, 201] : [400];
    return {
      what: `POST /leads raw ${type} (${name})`,
      method: 'POST',
      path: '/leads',
      headers: { ...headers, 'content-type': type },
      body,
      allowed,
      ...(ok && !big && valid && { starts: leadJourneyId(parsed as { email: string }) }),
    };
  },
);

const lookUp = fc.tuple(privateAuth, fc.oneof(address, hostileText), fc.boolean()).map(([a, text, byEmail]): Probe => {
  const [name, headers, ok] = withAuth(a);
  const path = byEmail ? `/leads/by-email/${encodeURIComponent(text)}` : `/leads/${encodeURIComponent(text)}`;
  // An empty segment is another route, or none (404); a segment over 100 characters is refused as such (414).
  return { what: `GET ${byEmail ? 'by e-mail' : 'by id'} (${name})`, method: 'GET', path, headers, allowed: !ok ? [401, 404, 414] : [200, 400, 404, 414] };
});

const event = fc
  .tuple(privateAuth, fc.oneof(address, hostileText), fc.oneof(fc.constantFrom('touched', 'replied', 'unsubscribed', 'bant', 'closed-lost', 'meeting'), hostileText), fc.oneof(fc.constant({}), fc.dictionary(fc.constantFrom('by', 'channel', 'until', 'budget', 'reason', 'x'), anything, { maxKeys: 3 })), fc.boolean())
  .map(([a, who, name, detail, byEmail]): Probe => {
    const [auth, headers, ok] = withAuth(a);
    const path = `/leads/${byEmail ? 'by-email/' : ''}${encodeURIComponent(who)}/events/${encodeURIComponent(name)}`;
    return { what: `POST event ${name} (${auth})`, method: 'POST', path, headers: { ...headers, ...JSON_TYPE }, body: JSON.stringify(detail), allowed: !ok ? [401, 404, 414] : [202, 400, 404, 409, 414] };
  });

const unsubscribe = fc
  .tuple(fc.constantFrom('GET', 'POST') as fc.Arbitrary<'GET' | 'POST'>, realAddress, fc.constantFrom('signed', 'forged', 'altered', 'repeated', 'missing', 'garbage'), fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data; boundary=b', 'text/plain'))
  .map(([method, email, how, type]): Probe => {
    const token = signUnsubscribe({ journeyId: `lead-${email}`, email });
    const query = {
      signed: `lead=${encodeURIComponent(token)}`,
      forged: `lead=${encodeURIComponent(`k1.${Buffer.from(JSON.stringify({ j: `lead-${email}`, e: email, x: 4102444800 })).toString('base64url')}.AAAA`)}`,
      altered: `lead=${encodeURIComponent(`${token}x`)}`,
      repeated: `lead=${encodeURIComponent(token)}&lead=${encodeURIComponent(token)}`,
      missing: '',
      garbage: `lead=${encodeURIComponent(email)}`,
    }[how];
    // The token alone decides: the one-click route reads no body, whatever its type.
    const allowed = how === 'signed' ? [200] : [400];
    return { what: `${method} /unsubscribe (${how})`, method, path: `/unsubscribe?${query}`, headers: method === 'POST' ? { 'content-type': type } : {}, ...(method === 'POST' && { body: 'List-Unsubscribe=One-Click' }), allowed };
  });

/** One webhook body signed once, sent again and again: only its first arrival may be taken. */
let replayed: { body: string; signature: string } | undefined;
/** Makes each signed body unique (trailing blanks, a timestamp a little back), so only a replay repeats a signature. */
let sent = 0;
const webhook = fc
  .tuple(fc.oneof(fc.record({ email: address, event: fc.constantFrom('touched', 'replied', 'waved') }), fc.record({ id: hostileText, event: hostileText }), anything), fc.constantFrom('signed', 'unsigned', 'wrong secret', 'stale', 'replayed'))
  .map(([payload, how]): Probe => {
    const n = sent++;
    const body = `${JSON.stringify(payload) ?? '""'}${' '.repeat(n % 1_000)}`;
    const now = Math.floor(Date.now() / 1000);
    replayed ??= { body, signature: signWebhook(webhookSecret, body, now) };
    const signature = { signed: signWebhook(webhookSecret, body, now - (Math.floor(n / 1_000) % 250)), unsigned: '', 'wrong secret': signWebhook('x'.repeat(40), body), stale: signWebhook(webhookSecret, body, now - 3_600), replayed: replayed.signature }[how];
    return {
      what: `POST /webhooks/events (${how})`,
      method: 'POST',
      path: '/webhooks/events',
      headers: { ...JSON_TYPE, ...(signature && { 'pipewright-signature': signature }) },
      body: how === 'replayed' ? replayed.body : body,
      // The replayed one is taken on its first arrival only; after that, like any other bad signature.
      allowed: how === 'signed' ? [202, 400, 404, 409] : how === 'replayed' ? [202, 400, 401, 404, 409] : [401],
    };
  });

const sms = fc
  .tuple(fc.oneof(fc.constantFrom('+14155550100', '+821012345678', 'not a number'), hostileText), fc.oneof(fc.constantFrom('STOP', 'start', 'Yes please', 'quit'), hostileText), fc.boolean())
  .map(([from, text, signed]): Probe => {
    const params = { From: from, Body: text, To: '+15005550006' };
    const url = `${base}/webhooks/twilio/sms`;
    return {
      what: `POST /webhooks/twilio/sms (${signed ? 'signed' : 'forged'})`,
      method: 'POST',
      path: '/webhooks/twilio/sms',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signed ? twilio.getExpectedTwilioSignature(twilioToken, url, params) : 'Zm9yZ2Vk' },
      body: new URLSearchParams(params).toString(),
      allowed: signed ? [200] : [403],
    };
  });

const form = fc.tuple(leadBody, fc.constantFrom('site key', 'no key', 'api key'), fc.constantFrom(site, 'https://evil.example', '')).map(([lead, key, origin]): Probe => {
  const fields = Object.fromEntries(Object.entries(lead).filter(([k]) => k !== 'source').map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? '']));
  const presented = { 'site key': siteKey, 'no key': '', 'api key': apiKey }[key];
  const asLead = { ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== '')), source: 'inbound' } as Record<string, unknown>;
  if (typeof asLead.employees === 'string' && /^\d[\d,]*$/.test(asLead.employees.trim())) asLead.employees = Number(asLead.employees.replace(/,/g, ''));
  const authorised = key === 'site key' && origin === site;
  const valid = validLead(asLead);
  return {
    what: `POST /forms/leads (${key}, origin ${origin || 'none'}, ${valid ? 'valid' : 'invalid'})`,
    method: 'POST',
    path: '/forms/leads',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(origin && { origin }) },
    body: new URLSearchParams({ ...fields, siteKey: presented }).toString(),
    allowed: key !== 'site key' ? [401] : !authorised ? [403] : valid ? [202] : [400],
    ...(authorised && valid && { starts: leadJourneyId(asLead as { email: string }) }),
  };
});

const probe = fc.oneof(
  { weight: 4, arbitrary: postLead },
  { weight: 1, arbitrary: rawLeadBody },
  { weight: 2, arbitrary: lookUp },
  { weight: 2, arbitrary: event },
  { weight: 2, arbitrary: unsubscribe },
  { weight: 2, arbitrary: webhook },
  { weight: 1, arbitrary: sms },
  { weight: 2, arbitrary: form },
);

test(`${RUNS.toLocaleString('en')} generated requests: each answered 2xx or 4xx as schema and credentials say, none 5xx or hung, and no journey a refusal started`, async () => {
  await fc.assert(
    fc.asyncProperty(probe, async (p) => {
      const res = await fetch(`${base}${p.path}`, { method: p.method, headers: p.headers, body: p.body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
      await res.arrayBuffer();
      answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
      if (!p.allowed.includes(res.status)) throw new Error(`${p.what}: answered ${res.status}, expected ${p.allowed.join(' or ')}`);
      if (p.starts && (res.status === 201 || res.status === 202)) started.add(p.starts);
    }),
    { numRuns: RUNS, endOnFailure: true },
  );

  // Visibility follows the starts by a moment: every journey the server lists must be one a 2xx started.
  const listed = new Set<string>();
  for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
    listed.clear();
    for await (const w of env.client.workflow.list({ query: 'WorkflowType = "leadJourney"' })) listed.add(w.workflowId);
    if (listed.size >= started.size) break;
  }
  expect([...listed].filter((id) => !started.has(id))).toEqual([]);
  expect(listed.size).toBe(started.size);
  const byClass = Object.fromEntries([2, 4, 5].map((c) => [`${c}xx`, [...answers].filter(([s]) => Math.floor(s / 100) === c).reduce((n, [, k]) => n + k, 0)]));
  console.log(`intake fuzz: ${RUNS} requests; answers ${JSON.stringify(Object.fromEntries([...answers].sort(([a], [b]) => a - b)))}; by class ${JSON.stringify(byClass)}; ${started.size} journeys started`);
  expect(byClass['5xx']).toBe(0);
  // The generators reach every outcome worth having: journeys started, refusals of each kind.
  for (const status of [200, 201, 202, 400, 401, 403, 404]) expect([status, answers.get(status) ?? 0]).not.toEqual([status, 0]);
}, 1_800_000);
