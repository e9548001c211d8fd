// The HTTP intake on the dev server: what a web form, a CRM webhook or an unsubscribe link sends.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { createIntake } from '../client/intake';
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

beforeAll(async () => {
  const [bundle] = await Promise.all([
    bundleWorkflows(),
    devServerEnv().then((e) => (env = e)),
    startMailSink().then((s) => (sink = s)),
    embeddedTestStore().then((s) => (db = s)),
  ]);
  worker = await testWorker(env, bundle, sink, db.store, taskQueue);
  running = worker.run();
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
const post = (path: string, body?: unknown, type = 'application/json') =>
  fetch(`${base}${path}`, { method: 'POST', headers: body === undefined ? {} : { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('a lead posted by a form starts its journey once, however often it is posted', async () => {
  const lead = fittingLead();
  const first = await post('/leads', lead);
  expect(first.status).toBe(201);
  expect(await json(first)).toEqual({ leadId: `lead-${lead.email}`, started: true });
  await sink.waitFor(sdrNoticeAbout(lead));

  const again = await post('/leads', lead);
  expect(again.status).toBe(200);
  expect(await json(again)).toEqual({ leadId: `lead-${lead.email}`, started: false });

  const state = await json(await fetch(`${base}/leads/${encodeURIComponent(lead.email)}`));
  expect(state).toMatchObject({ stage: 'working', status: 'RUNNING' });
  expect(state.slas).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'inbound-first-touch', kind: 'first-touch', status: 'pending' })]));
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
  const show = async () => json(await fetch(`${base}/leads/${encodeURIComponent(lead.email)}`));
  const firstTouch = (s: any) => s.slas.find((c: { kind: string }) => c.kind === 'first-touch');
  const { owner } = await show();
  // A touch that does not say who made it is kept, but only the owner's touch meets the SLA.
  expect((await post(`/leads/${encodeURIComponent(lead.email)}/events/touched`)).status).toBe(202);
  let state = await show();
  expect(state.repTouches).toHaveLength(1);
  expect(firstTouch(state).status).toBe('pending');
  expect((await post(`/leads/${encodeURIComponent(lead.email)}/events/touched`, { by: owner.email, channel: 'call' })).status).toBe(202);
  state = await show();
  expect(firstTouch(state).status).toBe('met');
  expect(state.repTouches).toEqual([expect.not.objectContaining({ by: expect.anything() }), expect.objectContaining({ by: owner.email, channel: 'call' })]);

  const unknownEvent = await post(`/leads/${encodeURIComponent(lead.email)}/events/meeting`);
  expect(unknownEvent.status).toBe(400);
  expect((await json(unknownEvent)).error).toBe(`event: "meeting" is not a lead event; expected one of ${LEAD_EVENTS.join(', ')}`);
  expect((await post('/leads/nobody%40nowhere.example/events/touched')).status).toBe(404);
});

test("the List-Unsubscribe link's one-click post stops the cadence; its page only offers a button", async () => {
  const lead = nurtureLead();
  const { leadId } = await json(await post('/leads', lead));
  await sink.waitFor((m) => m.to.includes(lead.email));

  const page = await fetch(`${base}/unsubscribe?lead=${encodeURIComponent(leadId)}`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<button type="submit">Unsubscribe</button>');
  expect((await env.client.workflow.getHandle(leadId).describe()).status.name).toBe('RUNNING');

  const oneClick = await post(`/unsubscribe?lead=${encodeURIComponent(leadId)}`, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
  expect(oneClick.status).toBe(200);
  const result = await env.client.workflow.getHandle(leadId).result();
  expect(result).toMatchObject({ stage: 'ended', outcome: 'unsubscribed' });
  expect(await db.store.suppressionFor(lead.email, 'email')).toMatchObject({ channel: 'all', reason: 'unsubscribed', source: 'link' });
  // A second click (or a mail client retrying) is still answered as done.
  expect((await post(`/unsubscribe?lead=${encodeURIComponent(leadId)}`, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded')).status).toBe(200);
  expect((await post('/unsubscribe')).status).toBe(400);
});

test('an unsubscribe after the journey ended, or without any journey, is still recorded and answered 200', async () => {
  const nobody = `never-added.${Date.now()}@example.com`;
  const res = await post(`/unsubscribe?lead=${encodeURIComponent(`lead-${nobody}`)}`, 'List-Unsubscribe=One-Click', 'application/x-www-form-urlencoded');
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

test('search attributes filter journeys by stage, owner and SLA status, and carry no lead data', async () => {
  const lead = fittingLead();
  const { leadId } = await json(await post('/leads', lead));
  await sink.waitFor(sdrNoticeAbout(lead));
  const { owner } = await json(await fetch(`${base}/leads/${leadId}`));
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
