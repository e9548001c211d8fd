// Qualification, routing and the SLA ladder on the time-skipping test server, at the durations the
// config names: minutes for a first touch, a week for persistence, 90 days of cool-off.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { twilioSmsSender } from '../activities/sms';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink, type ReceivedMail } from '../client/mailSink';
import { untilSettled } from '../client/settle';
import { temporal } from '@temporalio/proto';
import type { Lead } from '../config/lead';
import type { Config } from '../config/schema';
import { journeyStateQuery, JOURNEY_VERSION, type JourneyInput, type JourneyState } from '../workflows/messages';
import { isWorkingTime } from '../workflows/rules/businessHours';
import { fittingLead, nurtureLead, sandboxConfig } from './support/fixtures';
import { embeddedTestStore, type TestStore } from './support/store';
import { bundleWorkflows, testWorker, timeSkippingEnv } from './support/temporal';
import { startTwilioMock, type TwilioMock } from './support/twilioMock';

jest.setTimeout(60_000);

const { EventType } = temporal.api.enums.v1;

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const taskQueue = 'routing-sla-tests';
const base = sandboxConfig();
const member = (role: string, i = 0) => base.team.filter((m) => m.role === role)[i]!;
const [mina, sam] = [member('sdr', 0), member('sdr', 1)];
const ae = member('ae');
const manager = member('manager');

let env: TestWorkflowEnvironment;
let sink: MailSink;
let db: TestStore;
let bundle: WorkflowBundleWithSourceMap;
let twilio: TwilioMock;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  await Promise.all([
    bundleWorkflows().then((b) => (bundle = b)),
    timeSkippingEnv().then((e) => (env = e)),
    startMailSink().then((s) => (sink = s)),
    embeddedTestStore().then((s) => (db = s)),
    startTwilioMock().then((t) => (twilio = t)),
  ]);
  const sms = twilioSmsSender({ TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 'local-test-token', PIPEWRIGHT_TWILIO_API_URL: twilio.url });
  worker = await testWorker(env, bundle, sink, db.store, taskQueue, sms);
  running = worker.run();
}, 240_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await Promise.all([sink?.close(), db?.close(), twilio?.stop()]);
  await env?.teardown();
});

/** The example config with edits; pools of one rep keep the owner predictable. */
function configWith(edit: (c: Config) => void): Config {
  const config = structuredClone(base);
  edit(config);
  return config;
}
const onlyRep = (rep: { email: string }) => (c: Config) => void (c.routing.pools['sdr-team']!.members = [rep.email]);

/** Every journey the tests started: the clock moves only when none of them is in a workflow task. */
const started: ReturnType<typeof env.client.workflow.getHandle>[] = [];
async function start(lead: Lead, config: Config = base) {
  const { leadId } = await addLead(env.client, db.store, taskQueue, config, lead);
  const handle = env.client.workflow.getHandle(leadId);
  started.push(handle);
  return handle;
}
type Handle = Awaited<ReturnType<typeof start>>;
const state = (handle: Handle): Promise<JourneyState> => handle.query(journeyStateQuery);

/** Waits in real time (the test server's clock held still) until the journey's state satisfies `ok`. */
async function until(handle: Handle, ok: (s: JourneyState) => boolean, what: string): Promise<JourneyState> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await state(handle);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Moves the test server's clock, once every journey has finished its workflow task. */
async function advance(ms: number): Promise<void> {
  for (const handle of started) await untilSettled(handle);
  await env.sleep(ms);
}

/**
 * Ends a journey once its messages in flight have gone out. A journey that ends while its rep's
 * notice is still being sent abandons that activity, and the time-skipping server then never skipped
 * time again for the tests after it.
 */
async function disqualify(handle: Handle): Promise<JourneyState> {
  await until(handle, (s) => !s.owner || (s.notice !== undefined && s.notice.status !== 'sending'), 'the rep notice to settle');
  await handle.signal('disqualified');
  return finished(handle);
}

/**
 * The journey's final state, once it has ended. Not `handle.result()`: awaiting a result lets the
 * time-skipping server skip while the journey's last activities run, and with no timer left
 * anywhere it jumped ten years at a time, stranding the tests after it.
 */
async function finished(handle: Handle): Promise<JourneyState> {
  const deadline = Date.now() + 30_000;
  while ((await handle.describe()).status.name === 'RUNNING') {
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} did not end; state: ${JSON.stringify(await state(handle))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return state(handle);
}

const about = (lead: Lead, subject: string) => (m: ReceivedMail) => m.subject.startsWith(subject) && m.text.includes(lead.email);
const mailAbout = (lead: Lead, subject: string) => sink.messages.filter(about(lead, subject));
const sendKinds = async (leadId: string) => (await db.store.sends({ journeyId: leadId })).map((s) => `${s.kind}:${s.channel}:${s.recipient}`).sort();

describe('the SLA ladder', () => {
  test('a reminder to the rep at 50%, the manager at breach by e-mail and SMS for an A lead, and the next rep at the second deadline, all three told', async () => {
    const lead = fittingLead();
    const handle = await start(lead);
    await sink.waitFor(about(lead, 'New inbound lead'));
    const first = (await state(handle)).owner!;
    const second = first.email === mina.email ? sam : mina;
    expect((await state(handle)).slas.map((s) => [s.name, s.status])).toEqual([
      ['inbound-first-touch', 'pending'],
      ['first-week-persistence', 'pending'],
    ]);

    await advance(2.5 * MINUTE + SECOND);
    const reminder = await sink.waitFor(about(lead, 'Reminder:'));
    expect(reminder.to).toEqual([first.email]);
    expect(reminder.text).toContain(`touched --by ${first.email}`);
    expect(mailAbout(lead, 'SLA breached')).toHaveLength(0);

    await advance(2.5 * MINUTE);
    const breach = await sink.waitFor(about(lead, 'SLA breached'));
    expect(breach.to).toEqual([manager.email]);
    expect(breach.cc).toEqual([first.email]);
    const s = await until(handle, (x) => x.slas[0]!.rungs[1]!.status === 'sent' && x.slas[0]!.rungs[1]!.to!.length === 2, 'the breach rung');
    expect(s.slas[0]).toMatchObject({ status: 'breached', rungs: [{ kind: 'reminder', status: 'sent' }, { kind: 'breach', status: 'sent', to: [manager.email, manager.phone] }, { kind: 'reassign', status: 'pending' }] });
    const texts = twilio.requests().filter((r) => r.form.To === manager.phone && r.form.Body?.includes(lead.company));
    expect(texts).toEqual([expect.objectContaining({ status: 201, form: expect.objectContaining({ Body: expect.stringContaining('inbound-first-touch breached') }) })]);

    await advance(25 * MINUTE);
    const after = await until(handle, (x) => x.owner?.email === second.email, 'the reassignment');
    expect(after.previousOwners).toEqual([expect.objectContaining({ email: first.email, why: 'reassign' })]);
    expect(after.slas.every((c) => c.owner === second.email && c.status === 'pending')).toBe(true);
    for (const person of [first.email, second.email, manager.email]) await sink.waitFor((m) => about(lead, 'Reassigned:')(m) && m.to.includes(person));
    await sink.waitFor((m) => about(lead, 'New inbound lead')(m) && m.to.includes(second.email));
    expect(await sendKinds(handle.workflowId)).toEqual(
      [
        `rep-notice:email:${first.email}`,
        `rep-notice:email:${second.email}`,
        `sla-reminder:email:${first.email}`,
        `escalation:email:${manager.email}`,
        `escalation:sms:${manager.phone}`,
        `reassignment:email:${first.email}`,
        `reassignment:email:${second.email}`,
        `reassignment:email:${manager.email}`,
      ].sort(),
    );
    const assignments = await db.store.assignments(handle.workflowId);
    expect(assignments.map((a) => [a.rep, a.status])).toEqual([
      [first.email, 'reassigned'],
      [second.email, 'open'],
    ]);
    await disqualify(handle);
  });

  test("only the owner's touch counts: a teammate's touch leaves the SLA pending, the owner's meets it and stops the ladder", async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(mina)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    await handle.signal('touched', { by: sam.email, channel: 'call' });
    await advance(MINUTE);
    expect((await state(handle)).slas[0]!.status).toBe('pending');
    await handle.signal('touched', { by: mina.email, channel: 'call', outcome: 'voicemail' });
    const s = await until(handle, (x) => x.slas[0]!.status === 'met', 'the SLA to be met');
    // Met within the first minute: no rung was ever needed, not even the reminder at 2.5 minutes.
    expect(s.slas[0]!.rungs.map((r) => r.status)).toEqual(['not-needed', 'not-needed', 'not-needed']);
    expect(s.repTouches.map((t) => t.by)).toEqual([sam.email, mina.email]);
    await advance(40 * MINUTE);
    expect(mailAbout(lead, 'SLA breached')).toHaveLength(0);
    expect(mailAbout(lead, 'Reassigned:')).toHaveLength(0);
    expect((await state(handle)).owner!.email).toBe(mina.email);
    await disqualify(handle);
  });

  test('the rep hears of a lead within its first workflow task, and events that end waits cancel no timer', async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(mina)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    await untilSettled(handle);
    const types = async () => ((await handle.fetchHistory()).events ?? []).map((e) => EventType[e.eventType ?? 0]);
    const before = await types();
    // The assignment and the notice are local activities: markers in the first task, no activity task.
    const firstTask = before.slice(0, before.indexOf('EVENT_TYPE_WORKFLOW_TASK_COMPLETED') + 1);
    expect(firstTask).toEqual(['EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', 'EVENT_TYPE_WORKFLOW_TASK_STARTED', 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED']);
    expect(before).not.toContain('EVENT_TYPE_ACTIVITY_TASK_SCHEDULED');
    expect(before.filter((t) => t === 'EVENT_TYPE_MARKER_RECORDED').length).toBeGreaterThanOrEqual(2);
    // Each event wakes every wait (the SLA clocks, the quiet spell); none of them cancels its timer.
    await handle.signal('touched', { by: sam.email, channel: 'call' });
    await handle.signal('opened');
    await handle.signal('touched', { by: mina.email, channel: 'call' });
    await until(handle, (x) => x.slas[0]!.status === 'met', 'the SLA to be met');
    await untilSettled(handle);
    const after = await types();
    expect(after.filter((t) => t === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED')).toHaveLength(3);
    expect(after).not.toContain('EVENT_TYPE_TIMER_CANCELED');
    await disqualify(handle);
  });

  test('a touch reported before the assignment completes is kept, and meets the SLA', async () => {
    const lead = fittingLead();
    const config = configWith(onlyRep(sam));
    const input: JourneyInput = { version: JOURNEY_VERSION, lead, config };
    // The touch reaches the journey in its very first task, before the store has assigned anyone.
    const handle = await env.client.workflow.signalWithStart('leadJourney', {
      workflowId: `lead-${lead.email}`,
      taskQueue,
      args: [input],
      signal: 'touched',
      signalArgs: [{ by: sam.email, channel: 'email' }],
    });
    const s = await until(handle, (x) => x.slas[0]?.status === 'met', 'the SLA to be met');
    expect(s.owner!.email).toBe(sam.email);
    expect(Date.parse(s.repTouches[0]!.at)).toBeLessThanOrEqual(Date.parse(s.owner!.assignedAt));
    await disqualify(handle);
  });

  test('persistence: five touches in the first week breach the six-touch SLA at day 7, after a reminder at day 3.5', async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(mina)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    for (let i = 0; i < 5; i++) {
      await handle.signal('touched', { by: mina.email, channel: i % 2 ? 'email' : 'call' });
      await advance(12 * HOUR);
    }
    // 2.5 days have passed: the reminder at 3.5 days is still to come.
    expect(mailAbout(lead, 'Reminder: 6 touches')).toHaveLength(0);
    await advance(DAY + HOUR);
    const reminder = await sink.waitFor(about(lead, 'Reminder: 6 touches'));
    expect(reminder.subject).toContain('(5 so far)');
    await advance(3.5 * DAY);
    await sink.waitFor(about(lead, 'SLA breached'));
    const s = await until(handle, (x) => x.slas.find((c) => c.kind === 'persistence')!.status === 'breached', 'the persistence breach');
    expect(s.slas.map((c) => [c.name, c.status, c.touches])).toEqual([
      ['inbound-first-touch', 'met', undefined],
      ['first-week-persistence', 'breached', 5],
    ]);
    const breaches = await db.store.events({ journeyId: handle.workflowId, types: ['sla-breached'] });
    expect(breaches.map((e) => e.detail)).toEqual([expect.objectContaining({ sla: 'first-week-persistence', rep: mina.email, touches: 5, needed: 6 })]);
    await disqualify(handle);
  });

  test("a reply while a rep works the lead starts the 4-hour follow-up SLA; the owner's touch after it meets it", async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(mina)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    await handle.signal('touched', { by: mina.email });
    await advance(HOUR);
    await handle.signal('replied');
    const s = await until(handle, (x) => x.slas.some((c) => c.kind === 'reply-follow-up'), 'the follow-up SLA');
    const followUp = s.slas.find((c) => c.kind === 'reply-follow-up')!;
    expect(Date.parse(followUp.due) - Date.parse(followUp.startedAt)).toBe(4 * HOUR);
    await advance(3 * HOUR);
    await sink.waitFor(about(lead, 'Reminder: a follow-up to the reply'));
    await handle.signal('touched', { by: mina.email, channel: 'email' });
    await until(handle, (x) => x.slas.find((c) => c.kind === 'reply-follow-up')!.status === 'met', 'the follow-up to be met');
    await disqualify(handle);
  });

  test('an outbound first touch is due 24 working hours after assignment, on the BDR\'s calendar', async () => {
    const lead = fittingLead({ source: 'outbound' });
    const handle = await start(lead);
    const s = await until(handle, (x) => x.slas.length > 0, 'the SLA clocks');
    const sla = s.slas.find((c) => c.name === 'outbound-first-touch')!;
    const bdr = base.team.find((m) => m.email === s.owner!.email)!;
    expect(bdr.role).toBe('bdr');
    // 24 hours of 09:00-18:00 weekdays is at least two nights and a bit: never 24 plain hours.
    expect(Date.parse(sla.due) - Date.parse(sla.startedAt)).toBeGreaterThanOrEqual(48 * HOUR);
    expect(isWorkingTime(Date.parse(sla.due) - MINUTE, base.routing.workingHours, bdr.timezone)).toBe(true);
    await disqualify(handle);
  });
});

describe('routing in the store', () => {
  test('a full pool queues the lead and tells the manager once; it is assigned the moment the rep frees up', async () => {
    const config = configWith((c) => {
      onlyRep(sam)(c);
      c.team.find((m) => m.email === sam.email)!.cap = 1;
    });
    // Any earlier test's lead Sam still holds is closed first, so the cap of one is this test's.
    for (const id of (await db.store.openLeads()).has(sam.email) ? await openLeadsOf(sam.email) : []) await db.store.releaseLead(id, 'test setup');
    const [a, b] = [fittingLead(), fittingLead()];
    const ha = await start(a, config);
    await until(ha, (x) => x.owner?.email === sam.email, 'the first lead assigned');
    const hb = await start(b, config);
    const queued = await until(hb, (x) => x.stage === 'queued', 'the second lead queued');
    expect(queued.queued).toMatchObject({ pool: 'sdr-team', position: 1, skipped: [{ rep: sam.email, reason: 'at cap: 1 open leads' }] });
    const notice = await sink.waitFor(about(b, 'No rep free in sdr-team'));
    expect(notice.to).toEqual([manager.email]);

    // Rechecks every minute say nothing new to the manager.
    await advance(5 * MINUTE);
    expect(mailAbout(b, 'No rep free')).toHaveLength(1);
    await disqualify(ha);
    const s = await until(hb, (x) => x.owner?.email === sam.email, 'the waiting lead assigned');
    expect(s.stage).toBe('working');
    await sink.waitFor(about(b, 'New inbound lead'));
    await disqualify(hb);
  });

  test('a rep who is away is skipped, and the assignment says why', async () => {
    // Away far beyond the test server's clock, which runs ahead of the wall clock.
    await db.store.setAway(mina.email, new Date('2999-01-01T00:00:00Z'), 'vacation');
    try {
      const leads = [fittingLead(), fittingLead()];
      for (const lead of leads) {
        const handle = await start(lead);
        const s = await until(handle, (x) => x.owner !== undefined, 'an owner');
        expect(s.owner).toMatchObject({ email: sam.email, pool: 'sdr-team', rule: 'inbound-to-sdrs', strategy: 'round-robin' });
        expect(s.owner!.skipped).toEqual([{ rep: mina.email, reason: expect.stringMatching(/^away until /) }]);
        await disqualify(handle);
      }
    } finally {
      await db.store.clearAway(mina.email);
    }
  });

  test('a lead from a known account goes to its owner first', async () => {
    const lead = fittingLead({ email: `cto@globex-${Date.now()}.example` });
    await db.store.upsertAccount({ domain: lead.email.split('@')[1]!, name: 'Globex', owner: sam.email });
    const handle = await start(lead);
    const s = await until(handle, (x) => x.owner !== undefined, 'an owner');
    expect(s.owner).toMatchObject({ email: sam.email, preferred: `account owner of ${lead.email.split('@')[1]}` });
    await disqualify(handle);
  });
});

describe('qualification: fit x interest', () => {
  test('a lead that fits nothing and shows no interest is dropped: no rep, no e-mail', async () => {
    const lead = fittingLead({ industry: 'retail', region: 'eu-west', employees: 5000 });
    const handle = await start(lead);
    const s = await finished(handle);
    expect(s.outcome).toBe('dropped');
    expect(s.qualification).toMatchObject({ fit: { grade: 'D', score: 0 }, interest: { level: 'passive' }, action: 'drop', cell: 'D x passive' });
    expect(await db.store.sends({ journeyId: handle.workflowId })).toEqual([]);
  });

  test('a nurtured lead that asks for a demo crosses into sales-ready and is routed at once', async () => {
    const lead = nurtureLead();
    const handle = await start(lead);
    await until(handle, (x) => x.stage === 'nurturing', 'nurturing');
    expect((await state(handle)).qualification).toMatchObject({ fit: { grade: 'B' }, action: 'nurture' });
    await advance(DAY);
    await handle.signal('behaviour', { type: 'demo-request' });
    const s = await until(handle, (x) => x.owner !== undefined, 'an owner');
    expect(s.qualification).toMatchObject({ interest: { level: 'sales-ready' }, action: 'route', cell: 'B x sales-ready' });
    expect(s.cadence).toMatchObject({ status: 'done', exit: 'sales-ready' });
    const moves = await db.store.events({ journeyId: handle.workflowId, types: ['requalified'] });
    expect(moves.map((e) => e.detail)).toEqual([{ from: 'B x passive', to: 'B x sales-ready', action: 'route' }]);
    await disqualify(handle);
  });

  test('BANT with three of four confirmed makes a nurtured lead sales-ready', async () => {
    const handle = await start(nurtureLead());
    await until(handle, (x) => x.stage === 'nurturing', 'nurturing');
    await handle.signal('bant', { budget: 50000, authority: true });
    await advance(HOUR);
    expect((await state(handle)).stage).toBe('nurturing');
    await handle.signal('bant', { need: 'faster follow-up' });
    const s = await until(handle, (x) => x.owner !== undefined, 'an owner');
    expect(s.bant).toEqual({ budget: 50000, authority: true, need: 'faster follow-up' });
    expect(s.qualification!.interest.bant).toEqual(['budget', 'authority', 'need']);
    await disqualify(handle);
  });

  test("a click from a lead someone owns alerts the owner at once", async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(mina)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    await handle.signal('clicked');
    const alert = await sink.waitFor(about(lead, 'Hot lead'));
    expect(alert.to).toEqual([mina.email]);
    await disqualify(handle);
  });
});

describe('handoffs through the cycle', () => {
  test("a booked meeting hands the lead to field sales with the SDR's notes; a no-show gets the AE a reschedule task and the lead a reminder", async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(mina)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    await handle.signal('touched', { by: mina.email, channel: 'call' });
    await handle.signal('meeting-booked', { notes: 'Wants a demo for 12 SDRs; budget approved.' });
    const handoff = await sink.waitFor(about(lead, 'Meeting booked'));
    expect(handoff.to).toEqual([ae.email]);
    expect(handoff.text).toContain('Wants a demo for 12 SDRs; budget approved.');
    let s = await until(handle, (x) => x.stage === 'meeting', 'the meeting stage');
    expect(s.owner).toMatchObject({ email: ae.email, role: 'ae', pool: 'field-sales', rule: 'routing.meetingPool' });
    expect(s.previousOwners).toEqual([expect.objectContaining({ email: mina.email, why: 'meeting' })]);
    expect(s.slas.every((c) => c.status !== 'pending')).toBe(true);

    await advance(2 * DAY);
    await handle.signal('no-show');
    const task = await sink.waitFor((m) => m.to.includes(ae.email) && m.text.includes('did not show up'));
    expect(task.text).toContain(lead.email);
    const reminder = await sink.waitFor((m) => m.to.includes(lead.email) && m.subject.startsWith('Shall we find another time'));
    expect(reminder.text).toContain(ae.name);
    s = await until(handle, (x) => x.tasks.some((t) => t.stepId === 'no-show-1'), 'the reschedule task');
    expect(s.deal).toMatchObject({ stage: 'no-show' });

    await handle.signal('opportunity');
    await until(handle, (x) => x.stage === 'opportunity', 'the opportunity');
    await handle.signal('closed-won');
    expect((await finished(handle)).outcome).toBe('won');
    expect((await db.store.assignments(handle.workflowId)).map((a) => [a.rep, a.status])).toEqual([
      [mina.email, 'reassigned'],
      [ae.email, 'closed'],
    ]);
  });

  test('closed-lost frees the rep, rests 90 days, then re-enters the recycle nurture, which knows why it was lost', async () => {
    const lead = fittingLead();
    const handle = await start(lead, configWith(onlyRep(sam)));
    await sink.waitFor(about(lead, 'New inbound lead'));
    await handle.signal('touched', { by: sam.email });
    await handle.signal('closed-lost', { reason: 'no budget until Q3' });
    let s = await until(handle, (x) => x.stage === 'cooling-off', 'the cool-off');
    expect(s.deal).toMatchObject({ stage: 'lost', lostReason: 'no budget until Q3' });
    const released = await eventuallyStore(() => db.store.assignment(handle.workflowId), (a) => a?.status === 'closed');
    expect(released).toMatchObject({ rep: sam.email, closeReason: 'closed-lost' });

    await advance(89 * DAY);
    expect(sink.messages.filter((m) => m.to.includes(lead.email))).toHaveLength(0);
    await advance(2 * DAY);
    const recycled = await sink.waitFor((m) => m.to.includes(lead.email) && m.subject.includes('has anything changed'));
    expect(recycled.text).toContain('(no budget until Q3)');
    s = await until(handle, (x) => x.stage === 'nurturing', 'the recycle nurture');
    expect(s.cadence).toMatchObject({ cadence: 'recycle' });
    expect(s.owner).toBeUndefined();
    await handle.signal('unsubscribed');
    await finished(handle);
  });
});

async function eventuallyStore<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openLeadsOf(rep: string): Promise<string[]> {
  // Every journey this file started: ask the store which ones the rep still holds.
  const ids = new Set((await db.store.events({ types: ['assigned', 'reassigned'], limit: 10_000 })).map((e) => e.journeyId));
  const open: string[] = [];
  for (const id of ids) {
    const a = await db.store.assignment(id);
    if (a?.status === 'open' && a.rep === rep) open.push(id);
  }
  return open;
}
