// The lead journey on the time-skipping test server, at the durations marketing ops configure:
// minutes for the first-touch SLA, days for the nurture cadence.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { addLead } from '../client/leads';
import { startMailSink, type MailSink } from '../client/mailSink';
import type { Lead } from '../config/lead';
import { journeyStateQuery, type JourneyState } from '../workflows/messages';
import { exampleConfig, fittingLead, nurtureLead, sdrNoticeAbout } from './support/fixtures';
import { bundleWorkflows, testWorker, timeSkippingEnv } from './support/temporal';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const taskQueue = 'journey-tests';
const config = exampleConfig();
const sdrs = config.team.filter((m) => m.role === 'sdr').map((m) => m.email);
const manager = config.team.find((m) => m.role === 'manager')!.email;

let env: TestWorkflowEnvironment;
let sink: MailSink;
let worker: Worker;
let running: Promise<void>;
// (The rotation surviving a worker restart is shown on the dev server, in e2e.test.ts.)

beforeAll(async () => {
  const [bundle] = await Promise.all([bundleWorkflows(), timeSkippingEnv().then((e) => (env = e)), startMailSink().then((s) => (sink = s))]);
  worker = await testWorker(env, bundle, sink, taskQueue);
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await sink?.close();
  await env?.teardown();
});

async function start(lead: Lead) {
  const { leadId } = await addLead(env.client, taskQueue, config, lead);
  return env.client.workflow.getHandle(leadId);
}

const state = (handle: { query: (q: typeof journeyStateQuery) => Promise<JourneyState> }) => handle.query(journeyStateQuery);
const mailTo = (address: string) => sink.messages.filter((m) => m.to.includes(address));
const escalationsAbout = (lead: Lead) => mailTo(manager).filter((m) => m.subject.startsWith('SLA breached') && m.text.includes(lead.email));

/** A lead outside the ICP, a day after its first nurture e-mail. */
async function nurturedForADay() {
  const lead = nurtureLead();
  const handle = await start(lead);
  await sink.waitFor((m) => m.to.includes(lead.email));
  await env.sleep(DAY);
  return { lead, handle };
}

/** Waits (in real time, the test server's clock held still) until the journey's state satisfies `ok`. */
async function until(handle: Parameters<typeof state>[0], ok: (s: JourneyState) => boolean, what: string): Promise<JourneyState> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await state(handle);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('first-touch SLA for an inbound lead that fits the ICP', () => {
  test('the lead goes to an SDR, who is e-mailed the lead with the deadline', async () => {
    const lead = fittingLead();
    const handle = await start(lead);
    const notice = await sink.waitFor(sdrNoticeAbout(lead));
    const s = await state(handle);
    expect(s.stage).toBe('working');
    expect(s.qualification).toEqual({ fits: true, misses: [] });
    expect(sdrs).toContain(s.owner!.email);
    expect(notice.to).toEqual([s.owner!.email]);
    expect(notice.text).toContain(`pipewright lead event ${s.leadId} touched`);
    expect(s.sla).toMatchObject({ kind: 'first-touch', status: 'pending' });
    expect(Date.parse(s.sla!.due) - Date.parse(s.owner!.assignedAt)).toBe(5 * MINUTE);
    expect(s.next).toEqual({ what: `first touch by ${s.owner!.name}`, dueAt: s.sla!.due });
  });

  test('a breach five minutes after assignment e-mails the manager, naming lead, rep, deadline and lateness', async () => {
    const lead = fittingLead();
    const handle = await start(lead);
    await sink.waitFor(sdrNoticeAbout(lead));

    await env.sleep(5 * MINUTE - 2_000);
    expect((await state(handle)).sla!.status).toBe('pending');
    expect(escalationsAbout(lead)).toHaveLength(0);

    await env.sleep(4_000);
    const escalation = await sink.waitFor((m) => m.subject.startsWith('SLA breached') && m.text.includes(lead.email));
    const s = await until(handle, (x) => x.sla?.escalatedTo !== undefined, 'the escalation to be recorded');
    expect(s.sla!.status).toBe('breached');
    expect(s.sla!.escalatedTo).toBe(manager);
    expect(escalation.to).toEqual([manager]);
    expect(escalation.cc).toEqual([s.owner!.email]);
    expect(escalation.subject).toContain(s.owner!.name);
    expect(escalation.text).toContain(`${lead.firstName} ${lead.lastName}`);
    expect(escalation.text).toMatch(/It was due by .+ and is \d+ms late as of this e-mail/);
    expect(escalationsAbout(lead)).toHaveLength(1);
  });

  test('a touch at four minutes meets the SLA and no escalation is ever sent', async () => {
    const lead = fittingLead();
    const handle = await start(lead);
    await sink.waitFor(sdrNoticeAbout(lead));
    await env.sleep(4 * MINUTE);
    await handle.signal('touched');
    await until(handle, (x) => x.sla?.status === 'met', 'the SLA to be met');
    await env.sleep(10 * MINUTE);
    const s = await state(handle);
    expect(s.sla!.status).toBe('met');
    expect(Date.parse(s.firstTouchAt!) - Date.parse(s.owner!.assignedAt)).toBeGreaterThanOrEqual(4 * MINUTE);
    expect(escalationsAbout(lead)).toHaveLength(0);
  });
});

describe('round robin over the SDRs', () => {
  async function ownerOf(lead: Lead): Promise<string> {
    const handle = await start(lead);
    return (await until(handle, (s) => s.owner !== undefined, 'an owner')).owner!.email;
  }

  test('an inbound lead is assigned to the next SDR in turn', async () => {
    const owners: string[] = [];
    for (let i = 0; i < 4; i++) owners.push(await ownerOf(fittingLead()));
    expect(new Set(owners)).toEqual(new Set(sdrs));
    for (let i = 1; i < owners.length; i++) expect(owners[i]).not.toBe(owners[i - 1]);
  });

  test('leads arriving together are shared evenly', async () => {
    const owners = await Promise.all(Array.from({ length: 6 }, () => ownerOf(fittingLead())));
    for (const sdr of sdrs) expect(owners.filter((o) => o === sdr)).toHaveLength(3);
  });

  test('an outbound target account goes to a BDR', async () => {
    const bdr = config.team.find((m) => m.role === 'bdr')!;
    const handle = await start(fittingLead({ source: 'outbound' }));
    const s = await until(handle, (x) => x.owner !== undefined, 'an owner');
    expect(s.owner).toMatchObject({ email: bdr.email, role: 'bdr' });
    expect(Date.parse(s.sla!.due) - Date.parse(s.owner!.assignedAt)).toBe(24 * 60 * MINUTE);
  });
});

describe('nurture cadence for a lead outside the ICP', () => {
  test('e-mails go out on day 0, 3 and 7, each with a List-Unsubscribe header', async () => {
    const lead = nurtureLead();
    const handle = await start(lead);
    const first = await sink.waitFor((m) => m.to.includes(lead.email));
    let s = await until(handle, (x) => x.touches.length === 1, 'the first touch to be recorded');
    const started = Date.parse(s.touches[0]!.sentAt);
    expect(first.subject).toBe(`${lead.firstName}, a guide for retail teams`);
    expect(first.text).toContain(`teams like ${lead.company} cut`);
    const unsubscribeUrl = `https://pipewright.example/unsubscribe?lead=${encodeURIComponent(s.leadId)}`;
    expect(first.text).toContain(unsubscribeUrl);
    expect(first.raw.replace(/\r?\n\s+/g, ' ')).toContain(
      `List-Unsubscribe: <${unsubscribeUrl}>, <mailto:unsubscribe@pipewright.example?subject=${encodeURIComponent(`unsubscribe ${s.leadId}`)}>`,
    );
    expect(first.raw).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(s.stage).toBe('nurturing');
    expect(s.qualification!.fits).toBe(false);
    expect(s.owner).toBeUndefined();
    expect(Date.parse(s.next!.dueAt) - started).toBeLessThanOrEqual(3 * DAY);
    expect(Date.parse(s.next!.dueAt) - started).toBeGreaterThan(3 * DAY - MINUTE);

    await env.sleep(3 * DAY - 2 * MINUTE);
    expect(mailTo(lead.email)).toHaveLength(1);
    await env.sleep(3 * MINUTE);
    await sink.waitFor((m) => m.to.includes(lead.email) && m.subject.startsWith('How retail teams'));

    await env.sleep(4 * DAY - 2 * MINUTE);
    expect(mailTo(lead.email)).toHaveLength(2);
    await env.sleep(3 * MINUTE);
    await sink.waitFor((m) => m.to.includes(lead.email) && m.subject.startsWith('Worth a 15-minute call'));

    s = await until(handle, (x) => x.stage === 'nurture-complete', 'the cadence to end');
    const days = s.touches.map((t) => (Date.parse(t.sentAt) - started) / DAY);
    expect(days.map(Math.round)).toEqual([0, 3, 7]);
    expect(s.next).toBeUndefined();
    await env.sleep(30 * DAY);
    expect(mailTo(lead.email)).toHaveLength(3);
  });

  test('a reply stops the cadence and hands the lead to an SDR under the SLA', async () => {
    const { lead, handle } = await nurturedForADay();
    await handle.signal('replied');
    const s = await until(handle, (x) => x.stage === 'working', 'the hand-off to an SDR');
    expect(sdrs).toContain(s.owner!.email);
    expect(s.sla!.status).toBe('pending');
    await env.sleep(10 * DAY);
    expect(mailTo(lead.email)).toHaveLength(1);
  });
});

describe('an unsubscribe stops everything at once', () => {
  test('no nurture e-mail after an unsubscribe, and the journey ends', async () => {
    const { lead, handle } = await nurturedForADay();
    await handle.signal('unsubscribed');
    const result = await handle.result();
    expect(result.stage).toBe('unsubscribed');
    expect(result.next).toBeUndefined();
    await env.sleep(30 * DAY);
    expect(mailTo(lead.email)).toHaveLength(1);
  });

  test('an unsubscribe during the first-touch SLA stops the escalation too', async () => {
    const lead = fittingLead();
    const handle = await start(lead);
    await sink.waitFor(sdrNoticeAbout(lead));
    await env.sleep(MINUTE);
    await handle.signal('unsubscribed');
    const result = await handle.result();
    expect(result.stage).toBe('unsubscribed');
    expect(result.sla!.status).toBe('stopped');
    await env.sleep(10 * MINUTE);
    expect(escalationsAbout(lead)).toHaveLength(0);
  });

  test('adding the same lead again finds the ended journey and starts nothing', async () => {
    const lead = nurtureLead();
    const handle = await start(lead);
    await sink.waitFor((m) => m.to.includes(lead.email));
    await handle.signal('unsubscribed');
    await handle.result();
    const again = await addLead(env.client, taskQueue, config, lead);
    expect(again).toEqual({ leadId: handle.workflowId, started: false });
    await env.sleep(10 * DAY);
    expect(mailTo(lead.email)).toHaveLength(1);
  });
});
