// Cadences as config, on the time-skipping test server at their real durations: every step kind,
// send windows in the contact's own clock across time zones and a DST change, public holidays,
// limits across cadences, rotation, pauses, tier programs over months, and a live migration.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { holidayNamesFor } from '../activities/holidays';
import { twilioSmsSender } from '../activities/sms';
import { addAccount } from '../client/accounts';
import twilio from 'twilio';
import type { FastifyInstance } from 'fastify';
import { createIntake } from '../client/intake';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import type { Account } from '../config/account';
import type { Cadence } from '../config/cadence';
import type { Lead } from '../config/lead';
import { ConfigSchema, type Config } from '../config/schema';
import { journeyStateQuery, migrateCadenceUpdate, programStateQuery, type JourneyState, type ProgramState } from '../workflows/messages';
import { localIso } from '../workflows/rules/sendWindow';
import { exampleConfig, nurtureLead } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, testWorker, timeSkippingEnv } from './support/temporal';
import { startTwilioMock, type TwilioMock } from './support/twilioMock';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const taskQueue = 'cadence-tests';

let env: TestWorkflowEnvironment;
let sink: MailSink;
let db: TestStore;
let twilioMock: TwilioMock;
let bundle: WorkflowBundleWithSourceMap;
let worker: Worker;
let running: Promise<void>;
/** Addresses the SMTP server refuses with a 4xx while set: an outage of the provider. */
const outage = new Set<string>();

beforeAll(async () => {
  await Promise.all([
    bundleWorkflows().then((b) => (bundle = b)),
    timeSkippingEnv().then((e) => (env = e)),
    startMailSink({ rejectRecipient: (to) => (outage.has(to) ? '421 4.3.2 service not available, try later' : undefined) }).then((s) => (sink = s)),
    embeddedTestStore().then((s) => (db = s)),
    startTwilioMock().then((m) => (twilioMock = m)),
  ]);
  const sms = twilioSmsSender({ TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 'local-test-token', PIPEWRIGHT_TWILIO_API_URL: twilioMock.url });
  worker = await testWorker(env, bundle, sink, db.store, taskQueue, sms);
  running = worker.run();
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sink?.close();
  await db?.close();
  await twilioMock?.stop();
  await env?.teardown();
});

const base = exampleConfig();
const template = (subject: string, body = `Hi {{lead.firstName}}, ${subject}.\n\nUnsubscribe: {{unsubscribeUrl}}`) => ({ subject, body, format: 'text' as const, fallbacks: {} });

/** The example config with these cadences (the nurture one named `nurture`) and sending rules, validated like a file. */
function configWith(cadences: Record<string, Partial<Cadence> & Pick<Cadence, 'steps'>>, sending: Partial<Config['sending']> = {}, templates: Config['templates'] = {}): Config {
  return ConfigSchema.parse({
    ...base,
    templates: { ...base.templates, ...templates },
    cadences: { ...base.cadences, ...cadences },
    sending: { ...base.sending, holidays: false, limits: {}, ...sending },
  });
}

async function startLead(config: Config, lead: Lead) {
  const { leadId } = await addLead(env.client, db.store, taskQueue, config, lead);
  return env.client.workflow.getHandle(leadId);
}
const state = (handle: { query: (q: typeof journeyStateQuery) => Promise<JourneyState> }) => handle.query(journeyStateQuery);
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  for (const deadline = Date.now() + 60_000; ; ) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
/** The journey's result; on a stall, its state, so a failure says where it stopped. */
async function finished(handle: { result: () => Promise<unknown>; query: (q: typeof journeyStateQuery) => Promise<JourneyState> }, ms = 150_000): Promise<JourneyState> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => void handle.query(journeyStateQuery).then((s) => reject(new Error(`journey still running: ${JSON.stringify(s).slice(0, 3000)}`)), reject), ms);
  });
  try {
    return (await Promise.race([handle.result(), stalled])) as JourneyState;
  } finally {
    clearTimeout(timer);
  }
}
/** Lets the server's clock run an hour at a time until `ok`: for moments that wait on a window or a weekend. */
async function advanceUntil<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, limit = 14 * DAY): Promise<T> {
  for (let skipped = 0; ; skipped += HOUR) {
    const value = await read();
    if (ok(value)) return value;
    if (skipped > limit) throw new Error(`${what} did not happen within ${limit / DAY} days: ${JSON.stringify(value).slice(0, 2000)}`);
    await env.sleep(HOUR);
  }
}
const local = (at: string, zone: string) => localIso(Date.parse(at), zone);
/** "08:41" on the contact's clock, and the ISO weekday (1 = Monday). */
function clock(at: string, zone: string): { hhmm: string; weekday: number; offset: string } {
  const text = local(at, zone);
  const weekday = new Date(`${text.slice(0, 10)}T12:00:00Z`).getUTCDay() || 7;
  return { hhmm: text.slice(11, 16), weekday, offset: text.slice(19) };
}
const inEmailWindow = (hhmm: string) => (hhmm >= '08:00' && hhmm < '10:00') || (hhmm >= '15:00' && hhmm < '16:00');

describe('send windows in the contact\'s own clock', () => {
  test('a lead in Asia/Seoul and one in America/Los_Angeles get each e-mail inside 08:00-10:00 or 15:00-16:00 on a weekday, before and after a DST change', async () => {
    const config = configWith({
      nurture: { steps: [{ id: 'first', email: 'nurture-guide' }, { id: 'later', wait: '16w' }, { id: 'second', email: 'nurture-habits' }] },
    });
    const seoul = nurtureLead({ timezone: 'Asia/Seoul' });
    const la = nurtureLead({ timezone: 'America/Los_Angeles' });
    const handles = await Promise.all([startLead(config, seoul), startLead(config, la)]);
    // One result at a time: the time-skipping server's clock is shared, and awaiting two at once has stalled it here.
    const results = [await finished(handles[0]!), await finished(handles[1]!)];
    const offsets: Record<string, string[]> = {};
    for (const [result, zone] of [[results[0]!, 'Asia/Seoul'], [results[1]!, 'America/Los_Angeles']] as const) {
      expect(result.sends.map((s) => s.status)).toEqual(['sent', 'sent']);
      for (const send of result.sends) {
        const { hhmm, weekday, offset } = clock(send.at, zone);
        expect(inEmailWindow(hhmm)).toBe(true);
        expect(weekday).toBeLessThanOrEqual(5);
        (offsets[zone] ??= []).push(offset);
      }
    }
    // Sixteen weeks from late November crosses the second Sunday of March in Los Angeles, not in Seoul.
    expect(offsets['Asia/Seoul']).toEqual(['+09:00', '+09:00']);
    expect(new Set(offsets['America/Los_Angeles'])).toEqual(new Set(['-08:00', '-07:00']));
  });

  test("a touch due on a public holiday of the contact's country moves to the next business day, and the journey says why", async () => {
    const zone = 'America/New_York';
    // The server's clock, not the wall clock: earlier tests have moved it on by months.
    const now = await env.currentTimeMs();
    const year = new Date(now).getUTCFullYear();
    const names = holidayNamesFor('US', [year, year + 1]);
    // The next US public holiday on a weekday at least two days ahead, at 08:30 in New York.
    const day = Object.keys(names)
      .sort()
      .find((d) => Date.parse(`${d}T00:00:00Z`) > now + 2 * DAY && ![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()))!;
    const dueAt = Date.parse(`${day}T08:30:00Z`) - offsetMinutes(day, zone) * MINUTE;
    const wait = `${Math.ceil((dueAt - now) / MINUTE) + 2}m`;
    const config = configWith({ nurture: { steps: [{ id: 'hold', wait }, { id: 'note', email: 'nurture-guide' }] } }, { holidays: true });
    const handle = await startLead(config, nurtureLead({ country: 'US', timezone: zone }));
    const waiting = await until(() => state(handle), (s) => s.next?.shifted !== undefined, 'the pending touch');
    expect(waiting.next!.shifted).toEqual([expect.objectContaining({ reason: 'holiday', detail: expect.stringContaining(`${names[day]} on ${day}`) })]);
    const result = await finished(handle);
    const sent = clock(result.sends[0]!.at, zone);
    expect(local(result.sends[0]!.at, zone).slice(0, 10) > day).toBe(true);
    expect(inEmailWindow(sent.hhmm)).toBe(true);
    expect(result.sends[0]!.shifted).toEqual(waiting.next!.shifted!.map((s) => expect.objectContaining(s)));
  });
});

describe('every step kind', () => {
  const config = configWith(
    {
      kinds: {
        steps: [
          { id: 'hello', email: 'k-hello' },
          { id: 'call', task: 'call', template: 'a-call' },
          { id: 'text', sms: 'a-checkin-sms' },
          { id: 'opened', branch: { event: 'opened', within: '3d', then: 'hot', else: 'cold' } },
          { id: 'hot', email: 'k-hot' },
          { id: 'hot-done', exit: 'hot-lead' },
          { id: 'cold', wait: 'next-business-day' },
          { id: 'ceo', branch: { field: 'lead.title', equals: ['CEO'], then: 'ceo-note' } },
          { id: 'bye', email: 'k-bye' },
          { id: 'done', exit: 'completed' },
          { id: 'ceo-note', email: 'k-ceo' },
        ],
      },
    },
    {},
    { 'k-hello': template('hello'), 'k-hot': template('glad you looked'), 'k-bye': template('goodbye'), 'k-ceo': template('a note for a CEO') },
  );
  const kinds = { ...config, journey: { ...config.journey, nurtureCadence: 'kinds' } };
  const subjects = (s: JourneyState) => s.sends.filter((m) => m.channel === 'email').map((m) => m.subject);

  test('email, task, sms and an event branch: a lead who opens within 3 days takes the hot path and exits there', async () => {
    const lead = nurtureLead({ phone: '+14155550101', timezone: 'America/New_York' });
    const handle = await startLead(kinds, lead);
    const s = await advanceUntil(() => state(handle), (x) => x.sends.length >= 2 && x.tasks.length === 1, 'the e-mail, the task and the SMS');
    expect(s.sends.map((m) => [m.channel, m.status])).toEqual([['email', 'sent'], ['sms', 'sent']]);
    // The owner's task: an e-mail to the first SDR with the instructions, open until they report the call.
    const task = await sink.waitFor((m) => m.subject.startsWith('Task: Call') && m.text.includes(lead.email));
    expect(task.to).toEqual([kinds.team.find((m) => m.role === 'sdr')!.email]);
    expect(task.text).toContain(`Call ${lead.firstName} (no title on file)`);
    expect(s.tasks).toEqual([expect.objectContaining({ channel: 'call', status: 'open', stepId: 'call' })]);
    const texted = twilioMock.requests().filter((r) => r.form.To === lead.phone);
    expect(texted).toEqual([expect.objectContaining({ status: 201, form: expect.objectContaining({ From: kinds.sms!.from, Body: expect.stringContaining(`Hi ${lead.firstName}`) }) })]);
    await handle.signal('touched', { channel: 'call', outcome: 'voicemail' });
    await handle.signal('opened');
    const result = await finished(handle);
    expect(result.tasks[0]).toMatchObject({ status: 'done', outcome: 'voicemail' });
    expect(subjects(result)).toEqual(['hello', 'glad you looked']);
    expect(result.cadence).toMatchObject({ status: 'done', exit: 'hot-lead' });
  });

  test('no open within 3 days: the cold path waits for the next business day, then a field branch picks the CEO note', async () => {
    const zone = 'America/New_York';
    const [ceo, other] = await Promise.all([startLead(kinds, nurtureLead({ title: 'CEO', timezone: zone })), startLead(kinds, nurtureLead({ title: 'Buyer', timezone: zone }))]);
    const [a, b] = [await finished(ceo), await finished(other)];
    expect(subjects(a!)).toEqual(['hello', 'a note for a CEO']);
    expect(subjects(b!)).toEqual(['hello', 'goodbye']);
    expect(a!.cadence).toMatchObject({ exit: 'completed' });
    expect(b!.cadence).toMatchObject({ exit: 'completed' });
    // Without a phone number the SMS step is skipped and says so; nothing is sent to nobody.
    expect(a!.sends.filter((m) => m.channel === 'sms')).toEqual([expect.objectContaining({ status: 'skipped', detail: 'no phone number for this contact' })]);
    const branchedAt = Date.parse(a!.sends[0]!.at) + 3 * DAY;
    const note = clock(a!.sends[a!.sends.length - 1]!.at, zone);
    expect(Date.parse(a!.sends[a!.sends.length - 1]!.at)).toBeGreaterThan(branchedAt);
    expect(note.weekday).toBeLessThanOrEqual(5);
    expect(inEmailWindow(note.hhmm)).toBe(true);
  });
});

describe('SMS texted back to our number', () => {
  const authToken = 'local-test-token';
  const publicUrl = 'https://hooks.pipewright.example';
  const texts = configWith(
    {
      texts: {
        steps: [
          { id: 't1', sms: 'a-checkin-sms' },
          { id: 'w1', wait: '2d' },
          { id: 't2', sms: 'a-checkin-sms' },
          { id: 'w2', wait: '2d' },
          { id: 't3', sms: 'a-checkin-sms' },
          { id: 'w3', wait: '30d' },
          { id: 't4', sms: 'a-checkin-sms' },
        ],
      },
    },
  );
  const config = { ...texts, journey: { ...texts.journey, nurtureCadence: 'texts' } };
  let intake: FastifyInstance;
  let url: string;
  const logged: string[] = [];
  beforeAll(async () => {
    intake = createIntake({ client: env.client, store: db.store, taskQueue, face: 'public', twilioAuthToken: authToken, publicUrl, log: (line) => logged.push(line) });
    url = await intake.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => intake?.close());
  /** What Twilio posts for a text from `from`, signed as Twilio signs it (or with `signature`). */
  const text = (from: string, body: string, signature?: string) => {
    const params = { MessageSid: `SM${Math.random().toString(16).slice(2).padEnd(32, '0')}`, AccountSid: 'AC0123456789abcdef0123456789abcdef', From: from, To: config.sms!.from!, Body: body };
    const signed = signature ?? twilio.getExpectedTwilioSignature(authToken, `${publicUrl}/webhooks/twilio/sms`, params);
    return fetch(`${url}/webhooks/twilio/sms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signed }, body: new URLSearchParams(params).toString() });
  };
  const smsSteps = (s: JourneyState) => s.sends.filter((m) => m.channel === 'sms').map((m) => [m.stepId, m.status]);

  test('STOP stops SMS to that number at once, START lifts it, and any other text is a reply that stops the cadence', async () => {
    const lead = nurtureLead({ phone: '+14155550177', timezone: 'America/New_York' });
    const handle = await startLead(config, lead);
    await advanceUntil(() => state(handle), (s) => smsSteps(s).length === 1, 'the first SMS');

    const stop = await text(lead.phone!, ' stop ');
    expect([stop.status, stop.headers.get('content-type')]).toEqual([200, 'text/xml']);
    expect(await stop.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(await db.store.smsOptOut(lead.phone!)).toMatchObject({ keyword: 'STOP' });
    const stopped = await advanceUntil(() => state(handle), (s) => smsSteps(s).length === 2, 'the second SMS step');
    expect(smsSteps(stopped)).toEqual([['t1', 'sent'], ['t2', 'skipped']]);
    expect(stopped.sends.find((m) => m.stepId === 't2')!.detail).toMatch(/^opted out: \+14155550177 texted STOP/);

    expect((await text(lead.phone!, 'Start')).status).toBe(200);
    expect(await db.store.smsOptOut(lead.phone!)).toBeUndefined();
    const started = await advanceUntil(() => state(handle), (s) => smsSteps(s).length === 3, 'the third SMS step');
    expect(smsSteps(started)).toEqual([['t1', 'sent'], ['t2', 'skipped'], ['t3', 'sent']]);
    expect(twilioMock.requests().filter((r) => r.form.To === lead.phone)).toHaveLength(2);

    expect((await text(lead.phone!, 'Sounds good, call me Tuesday')).status).toBe(200);
    const replied = await until(() => state(handle), (s) => s.repliedAt !== undefined && s.cadence?.status === 'done', 'the reply');
    expect(replied.cadence).toMatchObject({ exit: 'replied' });
    expect(smsSteps(replied)).toHaveLength(3);
  });

  test('a text without Twilio\'s signature, or signed for another URL or with another token, is refused with 403 and changes nothing', async () => {
    const phone = '+14155550178';
    const params = { From: phone, Body: 'STOP' };
    for (const signature of ['', 'bm90IGEgc2lnbmF0dXJl', twilio.getExpectedTwilioSignature('another-token', `${publicUrl}/webhooks/twilio/sms`, params), twilio.getExpectedTwilioSignature(authToken, `${url}/webhooks/twilio/sms`, params)]) {
      const res = await fetch(`${url}/webhooks/twilio/sms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature && { 'x-twilio-signature': signature }) }, body: new URLSearchParams(params).toString() });
      expect(res.status).toBe(403);
    }
    expect(await db.store.smsOptOut(phone)).toBeUndefined();
    // The same text, signed: taken.
    expect((await text(phone, 'STOP')).status).toBe(200);
    expect(await db.store.smsOptOut(phone)).toMatchObject({ keyword: 'STOP' });
    // A reply from a number no journey texted reaches nobody, and is still answered 200 (Twilio would only retry).
    expect((await text('+14155550179', 'who is this?')).status).toBe(200);
  });
});

describe('limits and rotation', () => {
  test('per-contact limits hold across two cadences: a lead in nurture and the same person in an account program', async () => {
    const config = configWith(
      {
        nurture: { steps: [{ id: 'n1', email: 'nurture-guide' }, { id: 'w1', wait: '10m' }, { id: 'n2', email: 'nurture-habits' }, { id: 'w2', wait: '10m' }, { id: 'n3', email: 'nurture-call' }] },
        'tier-c': { steps: [{ id: 'c1', email: 'c-news-1' }, { id: 'w', wait: '10m' }, { id: 'c2', email: 'c-news-2' }] },
      },
      { sandbox: true, limits: { perContact: { perDay: 1, perWeek: 3 }, perMailbox: {} } },
    );
    const lead = nurtureLead();
    const account: Account = { name: lead.company, domain: `acct-${Date.now()}.example`, tier: 'C', contacts: [{ email: lead.email, firstName: lead.firstName }] };
    const journey = await startLead(config, lead);
    const { programId } = await addAccount(env.client, db.store, taskQueue, config, account);
    const program = env.client.workflow.getHandle(programId);
    const ended = await program.result().then(
      (r) => r as ProgramState,
      async (err: Error) => {
        throw new Error(`program: ${err.message} ${err.cause ? (err.cause as Error).message : ''}; history ${JSON.stringify((await program.fetchHistory()).events?.slice(-6)).slice(0, 3000)}`);
      },
    );
    expect(ended.outcome).toBe('completed');
    await finished(journey, 60_000);
    const touches = (await db.store.touches(lead.email, new Date(0))).filter((t) => t.status === 'sent').map((t) => t.touchAt!.getTime()).sort((a, b) => a - b);
    expect(touches).toHaveLength(5);
    touches.slice(1).forEach((t, i) => expect(t - touches[i]!).toBeGreaterThanOrEqual(DAY));
    touches.forEach((t) => expect(touches.filter((u) => u > t - 7 * DAY && u <= t).length).toBeLessThanOrEqual(3));
    const deferred = await db.store.events({ journeyId: journey.workflowId, types: ['deferred'] });
    expect(deferred.length).toBeGreaterThan(0);
    expect(deferred[0]!.detail).toMatchObject({ reason: expect.stringContaining('at most 1 touch a day to this contact') });
  });

  test('after a one-hour SMTP outage the overdue e-mails keep to the per-contact limits instead of leaving back to back', async () => {
    const config = configWith(
      { nurture: { steps: [{ id: 'n1', email: 'nurture-guide' }, { id: 'w1', wait: '10m' }, { id: 'n2', email: 'nurture-habits' }, { id: 'w2', wait: '10m' }, { id: 'n3', email: 'nurture-call' }] } },
      { sandbox: true, limits: { perContact: { perDay: 1 }, perMailbox: {} } },
    );
    const lead = nurtureLead();
    outage.add(lead.email);
    const handle = await startLead(config, lead);
    await env.sleep(HOUR);
    outage.delete(lead.email);
    await finished(handle);
    // When each left, as the ledger has it (a touch retried through the outage counts from then).
    const sent = (await db.store.touches(lead.email, new Date(0))).filter((t) => t.status === 'sent').map((t) => t.touchAt!.getTime()).sort((a, b) => a - b);
    expect(sent).toHaveLength(3);
    expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(DAY);
    expect(sent[2]! - sent[1]!).toBeGreaterThanOrEqual(DAY);
    const [first] = (await db.store.sends({ journeyId: handle.workflowId })).filter((s) => s.key.endsWith('/n1/1'));
    expect(first!.attempts).toBeGreaterThan(1);
  });

  test('rotation: a contact never gets the same template twice in a row', async () => {
    const variants = ['r-a', 'r-b', 'r-c'];
    const steps = Array.from({ length: 6 }, (_, i) => [{ id: `r${i}`, email: variants }, { id: `w${i}`, wait: '2d' }]).flat();
    const config = configWith({ nurture: { steps } }, { sandbox: true }, Object.fromEntries(variants.map((v) => [v, template(v)])));
    const result = await finished(await startLead(config, nurtureLead()));
    const sent = result.sends.map((m) => m.template);
    expect(sent).toHaveLength(6);
    sent.slice(1).forEach((t, i) => expect(t).not.toBe(sent[i]));
  });
});

describe('pause and resume', () => {
  test('an out-of-office pause holds the cadence until the return date, then it picks up where it stopped', async () => {
    const config = configWith({ nurture: { steps: [{ id: 'p1', email: 'nurture-guide' }, { id: 'w', wait: '3d' }, { id: 'p2', email: 'nurture-habits' }, { id: 'w2', wait: '3d' }, { id: 'p3', email: 'nurture-call' }] } }, { sandbox: true });
    const handle = await startLead(config, nurtureLead());
    await until(() => state(handle), (s) => s.sends.length === 1, 'the first e-mail');
    const back = new Date((await env.currentTimeMs()) + 10 * DAY).toISOString();
    await handle.signal('paused', { until: back });
    await until(() => state(handle), (s) => s.cadence?.status === 'paused', 'the pause');
    await env.sleep(9 * DAY);
    expect((await state(handle)).sends).toHaveLength(1);
    const result = await finished(handle, 60_000);
    expect(result.sends.map((m) => m.stepId)).toEqual(['p1', 'p2', 'p3']);
    expect(Date.parse(result.sends[1]!.at)).toBeGreaterThanOrEqual(Date.parse(back));
    expect(Date.parse(result.sends[2]!.at) - Date.parse(result.sends[1]!.at)).toBeGreaterThanOrEqual(3 * DAY - MINUTE);
  });
});

describe('long programs', () => {
  test('a two-year weekly nurture continues as new, keeps its place and sends every e-mail once', async () => {
    const steps = Array.from({ length: 104 }, (_, i) => [{ id: `week-${i + 1}`, email: ['nurture-guide', 'nurture-habits'] }, { id: `after-${i + 1}`, wait: '1w' }]).flat();
    const config = configWith({ nurture: { steps } }, { sandbox: true });
    const handle = await startLead(config, nurtureLead());
    const result = await finished(handle, 240_000);
    expect(result.continuedAsNew).toBeGreaterThan(0);
    expect(result.cadence).toMatchObject({ status: 'done', exit: 'completed', touches: 104 });
    const sends = (await db.store.sends({ journeyId: handle.workflowId, limit: 500 })).filter((s) => s.kind === 'cadence');
    expect(sends).toHaveLength(104);
    expect(new Set(sends.map((s) => s.key)).size).toBe(104);
    // The state keeps the latest 50 sends; the ledger keeps them all.
    const at = sends.map((s) => s.touchAt!.getTime());
    expect((Math.max(...at) - Math.min(...at)) / DAY).toBeGreaterThanOrEqual(103 * 7);
    expect(result.sends).toHaveLength(50);
  });

  test('tier A reaches 5 contacts over 6 months on e-mail, calls, SMS and LinkedIn, rotating content', async () => {
    const config = ConfigSchema.parse({ ...base, sending: { ...base.sending, holidays: false } });
    const account = tierAAccount();
    const { programId } = await addAccount(env.client, db.store, taskQueue, config, account);
    const handle = env.client.workflow.getHandle(programId);
    const result = (await handle.result()) as ProgramState;
    expect(result).toMatchObject({ tier: 'A', outcome: 'completed', owner: { email: account.owner } });
    expect(result.contacts).toHaveLength(5);
    for (const c of result.contacts) {
      expect(c.run.touches).toBeGreaterThanOrEqual(6);
      const at = c.sends.map((s) => Date.parse(s.at));
      expect((Math.max(...at) - Math.min(...at)) / DAY).toBeGreaterThanOrEqual(182);
      expect(new Set(c.sends.map((s) => s.channel))).toEqual(new Set(['email', 'sms']));
      expect(new Set(c.tasks.map((t) => t.channel))).toEqual(new Set(['call', 'linkedin']));
      const templates = c.sends.filter((s) => s.channel === 'email').map((s) => s.template);
      templates.slice(1).forEach((t, i) => expect(t).not.toBe(templates[i]));
    }
    // Colleagues at one account open with different variants.
    expect(new Set(result.contacts.map((c) => c.sends[0]!.template)).size).toBeGreaterThan(1);
    const history = await handle.fetchHistory();
    console.log(`tier-A program, 5 contacts, 6+ months: ${result.continuedAsNew + 1} run(s), last run ${history.events!.length} history events`);
  });

  test('one reply stops tier A for every contact and hands the account to its BDR', async () => {
    const config = ConfigSchema.parse({ ...base, sending: { ...base.sending, holidays: false } });
    const account = tierAAccount();
    const { programId } = await addAccount(env.client, db.store, taskQueue, config, account);
    const handle = env.client.workflow.getHandle(programId);
    await env.sleep(20 * DAY);
    const before = await handle.query(programStateQuery);
    expect(before.contacts.every((c) => c.run.touches > 0)).toBe(true);
    await handle.signal('contactEvent', { contact: account.contacts[1]!.email, type: 'replied' });
    const result = (await handle.result()) as ProgramState;
    expect(result).toMatchObject({ outcome: 'handed-over', handover: { contact: account.contacts[1]!.email, event: 'replied', notice: 'sent' } });
    for (const c of result.contacts) expect(c.run).toMatchObject({ status: 'done', exit: expect.stringContaining('handed-over') });
    const handover = await sink.waitFor((m) => m.to.includes(account.owner!) && m.text.includes(`at ${account.name} replied`));
    expect(handover.text).toContain('has stopped for all 5 contact(s)');
    const sentBefore = sink.messages.filter((m) => account.contacts.some((c) => m.to.includes(c.email))).length;
    await env.sleep(60 * DAY);
    expect(sink.messages.filter((m) => account.contacts.some((c) => m.to.includes(c.email)))).toHaveLength(sentBefore);
  });
});

describe('an account program, person by person', () => {
  test('an unsubscribe stops only that contact; the colleague goes on', async () => {
    const config = configWith({ 'tier-c': { steps: [{ id: 'c1', email: 'c-news-1' }, { id: 'w', wait: '1w' }, { id: 'c2', email: 'c-news-2' }] } }, { sandbox: true });
    const domain = `split-${Date.now()}.example`;
    const contacts = ['leaves', 'stays'].map((who) => ({ email: `${who}@${domain}`, firstName: who }));
    const bdr = base.team.find((m) => m.role === 'bdr')!.email;
    const { programId } = await addAccount(env.client, db.store, taskQueue, config, { name: 'Split Co', domain, tier: 'C', owner: bdr, contacts });
    const handle = env.client.workflow.getHandle(programId);
    await advanceUntil(() => handle.query(programStateQuery), (s) => s.contacts.every((c) => c.run.touches === 1), 'both first e-mails');
    await handle.signal('contactEvent', { contact: contacts[0]!.email, type: 'unsubscribed' });
    const result = (await handle.result()) as ProgramState;
    expect(result.outcome).toBe('completed');
    expect(result.contacts.map((c) => [c.email, c.run.exit, c.run.touches])).toEqual([
      [contacts[0]!.email, 'unsubscribed', 1],
      [contacts[1]!.email, 'completed', 2],
    ]);
    expect(await db.store.suppressionFor(contacts[0]!.email, 'email')).toMatchObject({ channel: 'all', reason: 'unsubscribed' });
  });
});

describe('templates at send time', () => {
  test('a template fixed in a newly applied config version reaches a running journey at its next e-mail', async () => {
    const config = configWith({ nurture: { steps: [{ id: 'one', email: 'nurture-guide' }, { id: 'w', wait: '3d' }, { id: 'two', email: 'nurture-habits' }] } }, { sandbox: true });
    const handle = await startLead(config, nurtureLead());
    await until(() => state(handle), (s) => s.sends.length === 1, 'the first e-mail');
    const fixed = { ...config, templates: { ...config.templates, 'nurture-habits': { ...config.templates['nurture-habits']!, subject: 'Fixed: how {{lead.industry}} teams follow up' } } };
    await db.store.applyConfig({ source: `# fixed typo ${Date.now()}`, config: fixed, by: 'test' });
    // The worker re-reads the active version at most every 10 s.
    await new Promise((r) => setTimeout(r, 11_000));
    const result = await finished(handle);
    expect(result.sends.map((m) => m.subject)).toEqual([expect.stringContaining('a guide for retail teams'), 'Fixed: how retail teams follow up']);
  });
});

describe('changing a live cadence', () => {
  test('a migration moves a running journey to the new definition at its next step boundary, by step id', async () => {
    const v1: Cadence = { exitOn: ['replied', 'meeting-booked', 'unsubscribed', 'bounced', 'disqualified', 'converted'], steps: [{ id: 'a', email: 'nurture-guide' }, { id: 'wait-a', wait: '10d' }, { id: 'b', email: 'nurture-habits' }, { id: 'wait-b', wait: '10d' }, { id: 'c', email: 'nurture-call' }] };
    const config = configWith({ nurture: v1 }, { sandbox: true });
    const handle = await startLead(config, nurtureLead());
    await until(() => state(handle), (s) => s.sends.length === 1, 'the first e-mail');
    const v2: Cadence = { ...v1, steps: [v1.steps[0]!, { id: 'wait-a', wait: '10d' }, { id: 'b', email: 'nurture-call' }, { id: 'extra', wait: '1d' }, { id: 'x', email: 'nurture-guide' }] };
    const answer = await handle.executeUpdate(migrateCadenceUpdate, { args: [{ cadence: 'nurture', definition: v2, configVersion: 2 }] });
    expect(answer).toMatchObject({ moved: true, detail: expect.stringContaining('from step b to b') });
    const result = await finished(handle);
    expect(result.sends.map((m) => [m.stepId, m.template])).toEqual([['a', 'nurture-guide'], ['b', 'nurture-call'], ['x', 'nurture-guide']]);
    expect(result.cadence).toMatchObject({ configVersion: 2 });
    const migrated = await db.store.events({ journeyId: handle.workflowId, types: ['migrated'] });
    expect(migrated).toEqual([expect.objectContaining({ detail: expect.objectContaining({ fromStep: 'b', toStep: 'b', toVersion: 2 }) })]);
    expect(await handle.executeUpdate(migrateCadenceUpdate, { args: [{ cadence: 'tier-a', definition: v2, configVersion: 3 }] }).catch((e: Error) => e.message)).toBeTruthy();
  });
});

describe('cadence simulate', () => {
  test('the simulator follows the same timeline as a real run of the same lead, config and start', async () => {
    const config = ConfigSchema.parse({ ...base, cadences: { ...base.cadences, nurture: { steps: [...base.cadences.nurture!.steps, { id: 'sms-nudge', sms: 'a-checkin-sms' }] } } });
    const lead = nurtureLead({ timezone: 'Asia/Seoul', country: 'KR', phone: '+821012345678' });
    // A start both clocks can reach: this file's server has run months ahead of the wall clock.
    const start = Math.ceil((Math.max(await env.currentTimeMs(), Date.now()) + DAY) / HOUR) * HOUR;
    const { simulate } = await import('../client/simulate');
    const simulated = await simulate({ config, lead, start: new Date(start), until: '90d' });
    await env.sleep(start - (await env.currentTimeMs()));
    const real = await finished(await startLead(config, lead));
    const minute = (iso: string) => iso.slice(0, 16);
    const fromSimulator = simulated.touches.filter((t) => t.kind === 'touch').map((t) => [minute(t.at), t.channel, t.step, t.template, t.shifted.map((x) => x.reason)]);
    const fromRun = real.sends.map((m) => [minute(m.at), m.channel, m.stepId, m.template, m.shifted.map((x) => x.reason)]);
    expect(fromRun).toHaveLength(4);
    expect(fromSimulator).toEqual(fromRun);
    expect(simulated.outcome).toMatchObject({ status: 'completed', outcome: real.outcome });
  });
});

let accounts = 0;
function tierAAccount(): Account {
  const n = ++accounts;
  const bdr = base.team.find((m) => m.role === 'bdr')!.email;
  return {
    name: `Globex ${n}`,
    domain: `globex-${n}-${process.pid}.example`,
    owner: bdr,
    industry: 'manufacturing',
    employees: 4000,
    country: 'US',
    contacts: ['cfo', 'vp-sales', 'ops', 'it', 'cmo', 'intern'].map((who, i) => ({
      email: `${who}@globex-${n}-${process.pid}.example`,
      firstName: `Person${i}`,
      title: who.toUpperCase(),
      phone: `+1415555${String(1000 + n * 10 + i).padStart(4, '0')}`,
      timezone: i % 2 ? 'America/Los_Angeles' : 'America/New_York',
    })),
  };
}

function offsetMinutes(day: string, zone: string): number {
  const noon = Date.parse(`${day}T12:00:00Z`);
  const text = localIso(noon, zone);
  const sign = text[19] === '-' ? -1 : 1;
  return sign * (Number(text.slice(20, 22)) * 60 + Number(text.slice(23, 25)));
}
