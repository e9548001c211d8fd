// `pipewright cadence simulate`: the production workflows on a private time-skipping test server
// with recording activities. Each simulation starts its own server, as the command does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { holidayNamesFor } from '../activities/holidays';
import { parseLead } from '../client/leads';
import { packageRoot } from '../client/paths';
import { formatTimeline, parseSimulatedEvents, simulate, simulationDurationMs, type SimulatedTouch } from '../client/simulate';
import type { Account } from '../config/account';
import { loadConfig } from '../config/load';
import { ConfigSchema, type Config } from '../config/schema';
import type { JourneyState } from '../workflows/messages';

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const examples = join(packageRoot(), 'config', 'examples');
const config = loadConfig(join(examples, 'default.yaml'));
// The example's bakery (retail, us-west), at a head count within the ICP's: 30% of the fit weight is
// grade C, which the example matrix nurtures while it shows no interest. (At its 12 employees it
// matches no criterion: grade D, dropped at once.)
const lead = parseLead({ ...JSON.parse(readFileSync(join(examples, 'leads', 'nurture.json'), 'utf8')), employees: 120 });
const LA = 'America/Los_Angeles'; // the lead's region is us-west

/**
 * The next Saturday 03:00 UTC at least a day away (Friday evening in Los Angeles) whose Friday is
 * no US holiday: the first e-mail is due outside the windows on the eve of a weekend, whatever
 * day the tests run.
 */
function nextSaturdayNight(): Date {
  const t = new Date(Date.now() + DAY);
  t.setUTCHours(3, 0, 0, 0);
  const friday = () => new Date(t.getTime() - DAY).toISOString().slice(0, 10);
  while (t.getUTCDay() !== 6 || holidayNamesFor('US', [t.getUTCFullYear() - 1, t.getUTCFullYear()])[friday()]) t.setTime(t.getTime() + DAY);
  return t;
}
const start = nextSaturdayNight();

const emails = (touches: SimulatedTouch[]) => touches.filter((t) => t.kind === 'touch' && t.channel === 'email');
const minutesOfDay = (local: string) => Number(local.slice(11, 13)) * 60 + Number(local.slice(14, 16));
const isoWeekday = (local: string) => new Date(`${local.slice(0, 10)}T00:00:00Z`).getUTCDay() || 7;
const progress: string[] = [];
const onProgress = (line: string) => void progress.push(line);

describe('the timeline of a nurtured lead', () => {
  let plain: Awaited<ReturnType<typeof simulate>>;
  beforeAll(async () => {
    plain = await simulate({ config, lead, start, onProgress });
  });

  test('three e-mails, guide, habits, call-offer, each inside an e-mail window on a business day of the lead', () => {
    const sent = emails(plain.touches);
    expect(sent.map((t) => [t.step, t.template, t.cadence, t.to, t.contact, t.status])).toEqual([
      ['guide', 'nurture-guide', 'nurture', lead.email, lead.email, 'sent'],
      ['habits', 'nurture-habits', 'nurture', lead.email, lead.email, 'sent'],
      ['call-offer', 'nurture-call', 'nurture', lead.email, lead.email, 'sent'],
    ]);
    expect(plain.touches).toHaveLength(3);
    const years = [...new Set(sent.map((t) => Number(t.local.slice(0, 4))))];
    const holidays = holidayNamesFor('US', years);
    for (const t of sent) {
      // local is the same instant as at, on the lead's clock (Pacific: -08:00 or -07:00).
      expect(Math.abs(Date.parse(t.local) - Date.parse(t.at))).toBeLessThan(1000);
      expect(t.local).toMatch(/-0[78]:00$/);
      const minutes = minutesOfDay(t.local);
      expect((minutes >= 8 * 60 && minutes < 10 * 60) || (minutes >= 15 * 60 && minutes < 16 * 60)).toBe(true);
      expect(isoWeekday(t.local)).toBeLessThanOrEqual(5);
      expect(holidays[t.local.slice(0, 10)]).toBeUndefined();
      expect(Date.parse(t.at)).toBeGreaterThanOrEqual(start.getTime());
    }
    // The waits of the cadence (3 days, then 4) count from the touch before.
    expect(Date.parse(sent[1]!.at) - Date.parse(sent[0]!.at)).toBeGreaterThanOrEqual(3 * DAY);
    expect(Date.parse(sent[2]!.at) - Date.parse(sent[1]!.at)).toBeGreaterThanOrEqual(4 * DAY);
  });

  test('every move is there with its reason: due on a Friday evening in Los Angeles, the first e-mail waits for the window and the weekend', () => {
    const [first] = emails(plain.touches);
    const reasons = first!.shifted.map((s) => s.reason);
    expect(reasons.slice(0, 2)).toEqual(['window', 'weekend']);
    expect(first!.shifted[0]!.detail).toBe(`outside 08:00-10:00, 15:00-16:00 ${LA}`);
    expect(first!.shifted[1]!.detail).toBe('Saturday and Sunday are not business days');
    // A Monday holiday (Memorial Day, Labor Day...) may move it once more; never anything else.
    expect(reasons.slice(2).every((r) => r === 'holiday')).toBe(true);
    expect(first!.local.slice(11, 19)).toBe('08:00:00');
    // Once the journey is over: no reply within 30 days of the last e-mail.
    expect(plain.outcome).toMatchObject({ status: 'completed', outcome: 'no-reply', skippedEvents: [] });
    const last = Date.parse(emails(plain.touches)[2]!.at);
    expect(Date.parse((plain.outcome as { at: string }).at) - last).toBeGreaterThanOrEqual(30 * DAY);
    expect(plain.simulatedMs).toBeGreaterThan(37 * DAY);
  });

  test('the human timeline: one line a touch, UTC and local time, channel, step, template, recipient, and why it moved', () => {
    const lines = formatTimeline(plain.touches);
    const [first] = emails(plain.touches);
    const utc = `${first!.at.slice(0, 10)} ${first!.at.slice(11, 16)} UTC`;
    const local = `${first!.local.slice(0, 10)} 08:00${first!.local.slice(19)}`;
    expect(lines[0]).toMatch(new RegExp(`^${utc}  ${local}  email  nurture/guide\\s+nurture-guide\\s+-> ${lead.email.replace(/\./g, '\\.')}$`));
    expect(lines[1]).toBe(`    moved (window): outside 08:00-10:00, 15:00-16:00 ${LA}`);
    expect(lines[2]).toBe('    moved (weekend): Saturday and Sunday are not business days');
    expect(lines.filter((l) => !l.startsWith('    '))).toHaveLength(3);
    expect(formatTimeline(plain.touches, { hideShifts: true })).toHaveLength(3);
  });

  test('as JSON, each touch carries at, local, channel, step, template, to, contact and shifted', () => {
    const json = JSON.parse(JSON.stringify(plain.touches[1])) as Record<string, unknown>;
    for (const key of ['at', 'local', 'channel', 'step', 'template', 'to', 'contact', 'shifted']) expect(json).toHaveProperty(key);
    expect(json.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(json.local).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[78]:00$/);
  });

  test('a reply on day 4 stops the cadence: the e-mails due before it went out, then the SDR is told and, untouched, the manager', async () => {
    // Two hours past the reply: the first rungs of the SLA ladder, and where the journey stands.
    const replied = await simulate({ config, lead, start, until: '98h', events: [{ after: '4d', event: 'replied' }], onProgress });
    const dayFour = start.getTime() + 4 * DAY;
    const before = emails(plain.touches).filter((t) => Date.parse(t.at) < dayFour);
    expect(before.length).toBeGreaterThan(0);
    // The same e-mails at the same minutes (a timer fires a few milliseconds after its time, differently each run).
    const same = (touches: SimulatedTouch[]) => touches.map((t) => ({ ...t, at: t.at.slice(0, 16), local: t.local.slice(0, 16) }));
    expect(same(emails(replied.touches))).toEqual(same(before));
    // Nobody touched the lead after the reply: it is bound to end as inactive 90 days after the reply,
    // its last sign of life (handing it from rep to rep is no sign of life).
    const { state } = replied.outcome as { status: string; state: JourneyState };
    expect(replied.outcome).toMatchObject({ status: 'running' });
    expect(state).toMatchObject({ stage: 'working', repliedAt: expect.any(String) });
    expect(Math.abs(Date.parse(state.repliedAt!) - dayFour)).toBeLessThan(MINUTE);
    expect(state.next).toEqual({ what: 'ends as inactive unless something happens', dueAt: new Date(Date.parse(state.lastActivityAt) + 90 * DAY).toISOString() });
    expect(Math.abs(Date.parse(state.lastActivityAt) - Date.parse(state.repliedAt!))).toBeLessThan(MINUTE);
    // The ladder's first 35 minutes after the reply, each message at the time it went.
    const internal = replied.touches.filter((t) => t.kind !== 'touch' && Date.parse(t.at) < dayFour + 36 * MINUTE);
    const mina = 'mina.park@pipewright.example';
    const sam = 'sam.rivera@pipewright.example';
    const manager = 'alex.kim@pipewright.example';
    expect(internal.map((t) => [t.kind, t.step, t.channel, t.to, t.contact])).toEqual([
      // The reply makes the lead inbound: the first SDR in turn hears of it, and the 5-minute SLA starts.
      ['rep-notice', 'rep-notice', 'email', mina, lead.email],
      // Half the time gone: a reminder to the SDR. At the deadline the manager hears (by e-mail: a C lead is not urgent).
      ['team', 'sla-reminder', 'email', mina, lead.email],
      ['escalation', 'escalation', 'email', manager, lead.email],
      // Still untouched 30 minutes after the assignment: the next SDR takes it, and all three hear.
      ['rep-notice', 'rep-notice', 'email', sam, lead.email],
      ['team', 'reassignment', 'email', mina, lead.email],
      ['team', 'reassignment', 'email', sam, lead.email],
      ['team', 'reassignment', 'email', manager, lead.email],
      ['team', 'sla-reminder', 'email', sam, lead.email],
      ['escalation', 'escalation', 'email', manager, lead.email],
    ]);
    // Measured from the first notice, which the simulator records when its activity is scheduled,
    // a few hundred milliseconds after the assignment the SLA clocks start from.
    const after = (i: number) => Date.parse(internal[i]!.at) - Date.parse(internal[0]!.at) + SECOND;
    expect(Math.abs(Date.parse(internal[0]!.at) - dayFour)).toBeLessThan(MINUTE);
    expect(after(1)).toBeGreaterThanOrEqual(2.5 * MINUTE);
    expect(after(1)).toBeLessThan(3 * MINUTE);
    expect(after(2)).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(after(2)).toBeLessThan(6 * MINUTE);
    for (const i of [3, 4, 5, 6]) expect(Math.round(after(i) / MINUTE)).toBe(30);
    expect(Math.round(after(7) / MINUTE)).toBe(33);
    expect(Math.round(after(8) / MINUTE)).toBe(35);
    expect(internal[2]!.detail).toMatch(/^SLA breached: .* not followed up by Mina Park$/);
    expect(internal[8]!.detail).toMatch(/^SLA breached: .* not followed up by Sam Rivera$/);
    expect(formatTimeline(replied.touches).some((l) => / email {2}rep-notice +\(rep-notice\) +-> mina\.park@pipewright\.example/.test(l))).toBe(true);
  });
});

describe('limits, accounts and long programs', () => {
  const template = (subject: string) => ({ subject, body: 'Hi {{lead.firstName}}.\n\nUnsubscribe: {{unsubscribeUrl}}', format: 'text' as const, fallbacks: {} });
  const configWith = (cadence: Config['cadences'][string], sending: Partial<Config['sending']>): Config =>
    ConfigSchema.parse({
      ...config,
      templates: { ...config.templates, 'week-a': template('Week A'), 'week-b': template('Week B') },
      cadences: { ...config.cadences, test: cadence },
      journey: { ...config.journey, nurtureCadence: 'test' },
      sending: { ...config.sending, ...sending },
    });

  test('a touch over the contact limit waits as the store would defer it, and says why', async () => {
    const twice = configWith({ steps: [{ id: 'one', email: 'week-a' }, { id: 'two', email: 'week-b' }] } as never, { sandbox: true, limits: { perContact: { perDay: 1 }, perMailbox: {} } });
    const { touches } = await simulate({ config: twice, lead, until: '10d', onProgress });
    expect(touches.map((t) => t.step)).toEqual(['one', 'two']);
    const [one, two] = touches;
    expect(one!.shifted).toEqual([]);
    expect(two!.shifted).toEqual([{ reason: 'limit', detail: `at most 1 touch a day to this contact (last at ${one!.at})` }]);
    expect(Date.parse(two!.at) - Date.parse(one!.at)).toBeGreaterThanOrEqual(DAY);
    expect(Date.parse(two!.at) - Date.parse(one!.at)).toBeLessThan(DAY + MINUTE);
  });

  test("an account's program: each contact on their own clock, and a reply hands the account to its BDR", async () => {
    const account: Account = {
      name: 'Bakers United',
      domain: 'bakers-united.example',
      tier: 'C',
      country: 'US',
      region: 'us-west',
      contacts: [
        { email: 'ana@bakers-united.example', firstName: 'Ana' },
        { email: 'jun@bakers-united.example', firstName: 'Jun', timezone: 'Asia/Seoul', country: 'KR' },
      ],
    };
    const result = await simulate({ config, account, start, events: [{ after: '10d', event: 'replied', contact: 'jun@bakers-united.example' }], onProgress });
    const touches = result.touches;
    // Tier C: the guide to both; the webinar note 4 weeks on never goes, because Jun replied on day 10.
    expect(emails(touches).map((t) => [t.step, t.to])).toEqual(
      expect.arrayContaining([
        ['guide', 'ana@bakers-united.example'],
        ['guide', 'jun@bakers-united.example'],
      ]),
    );
    expect(emails(touches)).toHaveLength(2);
    for (const t of emails(touches)) {
      expect(t.local).toMatch(t.contact.startsWith('jun') ? /\+09:00$/ : /-0[78]:00$/);
      const minutes = minutesOfDay(t.local);
      expect((minutes >= 8 * 60 && minutes < 10 * 60) || (minutes >= 15 * 60 && minutes < 16 * 60)).toBe(true);
    }
    const handover = touches.find((t) => t.step === 'handover');
    expect(handover).toMatchObject({ kind: 'task', channel: 'other', to: 'jordan.lee@pipewright.example', contact: 'jun@bakers-united.example' });
    expect(Math.abs(Date.parse(handover!.at) - (start.getTime() + 10 * DAY))).toBeLessThan(MINUTE);
    expect(result.outcome).toMatchObject({ status: 'completed', outcome: 'handed-over' });
    expect(formatTimeline(touches).some((l) => l.includes('-> jordan.lee@pipewright.example (about jun@bakers-united.example)'))).toBe(true);
  });

  test('two years of weekly e-mails simulate in seconds', async () => {
    const steps: unknown[] = [];
    for (let week = 1; week <= 104; week++) {
      steps.push({ id: `week-${week}`, email: week % 2 ? 'week-a' : 'week-b' });
      if (week < 104) steps.push({ id: `wait-${week}`, wait: '1w' });
    }
    const weekly = configWith({ steps } as never, { sandbox: true });
    const result = await simulate({ config: weekly, lead, until: '2y', onProgress });
    console.log(
      `2-year weekly program: ${result.touches.length} touches over ${Math.round(result.simulatedMs / DAY)} days simulated in ${(result.elapsedMs / 1000).toFixed(1)} s` +
        ` (bundling ${(result.bundleMs / 1000).toFixed(1)} s)`,
    );
    expect(result.touches.map((t) => t.step)).toEqual(Array.from({ length: 104 }, (_, i) => `week-${i + 1}`));
    expect(result.touches.map((t) => t.template)).toEqual(Array.from({ length: 104 }, (_, i) => (i % 2 ? 'week-b' : 'week-a')));
    const at = result.touches.map((t) => Date.parse(t.at));
    for (let i = 1; i < at.length; i++) {
      expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(7 * DAY);
      expect(at[i]! - at[i - 1]!).toBeLessThan(7 * DAY + MINUTE);
    }
    // The last e-mail goes out on day 721; its 30-day reply window runs past the end of the simulation.
    expect(result.outcome).toMatchObject({ status: 'running' });
    expect(result.simulatedMs).toBe(simulationDurationMs('2y'));
    expect(result.elapsedMs).toBeLessThan(120_000);
    expect(progress.some((l) => /^simulated 730 days in \d+\.\d s$/.test(l))).toBe(true);
  });
});

describe('inputs', () => {
  test('durations: the config units, and years of 365 days', () => {
    expect(simulationDurationMs('2y')).toBe(730 * DAY);
    expect(simulationDurationMs('52w')).toBe(364 * DAY);
    expect(() => simulationDurationMs('18 months')).toThrow(/expected a duration/);
  });

  test('an events file, in YAML or JSON', () => {
    expect(parseSimulatedEvents('- { after: 12d, event: replied }\n- { at: "2027-01-04T15:00:00Z", event: touched, channel: call, outcome: connected }\n')).toEqual([
      { after: '12d', event: 'replied' },
      { at: '2027-01-04T15:00:00Z', event: 'touched', channel: 'call', outcome: 'connected' },
    ]);
    expect(parseSimulatedEvents('{"events": [{"after": "3d", "event": "opened"}]}')).toEqual([{ after: '3d', event: 'opened' }]);
    expect(() => parseSimulatedEvents('- { after: 12d, event: replied, when: soon }')).toThrow(/not valid/);
  });

  test('bad events and a start in the past fail before any server starts', async () => {
    await expect(simulate({ config, lead, events: [{ after: '2d', event: 'waved' }] })).rejects.toThrow(/"waved" is not a lead event/);
    await expect(simulate({ config, lead, events: [{ after: 'soon', event: 'replied' }] })).rejects.toThrow(/expected a duration/);
    await expect(simulate({ config, lead, start: new Date(Date.now() - DAY) })).rejects.toThrow(/is in the past/);
    await expect(simulate({ config })).rejects.toThrow(/exactly one of a lead and an account/);
  });
});
