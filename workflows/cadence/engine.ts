// One engine for every cadence: it walks a cadence's steps for one contact, each step kind a small
// handler below, and one place (`advance`) moves to the next step. The host (a lead's journey, an
// account's program) owns the contact, the events and the moments the run must stop where it is.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { TouchResult } from '../../activities/touch';
import type { Cadence, CadenceStep } from '../../config/cadence';
import { NEXT_BUSINESS_DAY, stepKind, variantsOf, WEEKDAYS, type StepKind } from '../../config/vocabulary';
import { durationMs } from '../../config/duration';
import type { Config, TeamMember } from '../../config/schema';

/** What the engine reads of a config: any journey version's config has these. */
export type CadenceConfig = Pick<Config, 'cadences' | 'templates' | 'sending' | 'sms' | 'unsubscribe' | 'sender'>;
import type { TemplateContext } from '../../config/template';
import { MESSAGE_DELIVERY, settled, STORE_CALL } from '../history';
import { localIso, nextBusinessDay, nextOpening, type Opening, type SendRules } from '../rules/sendWindow';
import type { CadenceRun, TouchShift } from './run';
import { conditionWait, type Wait } from '../alarm';

/** patched() marker: a skipped SMS no longer ends the cadence run. */
const SMS_SKIP_CONTINUES = 'sms-skip-continues';

const { deliverTouch, deliverTask } = proxyActivities<Activities>(MESSAGE_DELIVERY);
const { noteTouchTime, publicHolidays } = proxyActivities<Activities>(STORE_CALL);

/** The person a run reaches, as templates and branches see them. */
export interface Person {
  email: string;
  phone?: string;
  timezone?: string;
  country?: string;
  region?: string;
}

export type SleepResult = 'due' | 'met' | 'stop';

/** What the engine needs from the workflow that runs it. */
export interface CadenceHost {
  config: CadenceConfig;
  journeyId: string;
  person: Person;
  /** lead / contact / account / owner / sender values for templates and field branches. */
  context: TemplateContext;
  /** The ID the unsubscribe link carries. */
  unsubscribeId: string;
  /** Varies rotation between contacts of one account, so colleagues get different variants. */
  rotationOffset: number;
  /** The ledger key of a message: derived from the journey, the contact and the step, never the attempt. */
  sendKey(what: string): string;
  /** Waits until t, or until `met()` (then 'met'), or until the host needs the run to stop where it is ('stop'). */
  sleepUntil(t: number, met?: () => boolean): Promise<SleepResult>;
  /** Whether an event of this type was seen at or after `since` (epoch ms). */
  seen(type: string, since: number): boolean;
  /** Who does a manual task: the owner, else whoever the host names. */
  taskOwner(): TeamMember;
  onTouch(touch: TouchRecord): void;
  onTask(task: TaskRecord): void;
}

export interface TouchRecord {
  cadence: string;
  stepId: string;
  channel: 'email' | 'sms';
  template: string;
  to: string;
  subject?: string;
  status: TouchResult['status'] | 'failed';
  detail?: string;
  at: string;
  shifted: TouchShift[];
}

export interface TaskRecord {
  cadence: string;
  stepId: string;
  channel: string;
  owner: string;
  contact: string;
  status: 'open' | 'done';
  createdAt: string;
  doneAt?: string;
  outcome?: string;
  notice: string;
}

type Next = { to: 'next' } | { to: 'step'; id: string } | { to: 'exit'; reason: string } | { to: 'stay' };
type Handler = (host: CadenceHost, run: CadenceRun, step: CadenceStep) => Promise<Next>;

const NEXT: Next = { to: 'next' };
/** A touch that took longer than this to leave (retries) has its time in the ledger corrected. */
const LATE_TOUCH_MS = 5 * 60_000;
const STAY: Next = { to: 'stay' };

/**
 * Runs until the cadence ends or the host needs the run to stop at a step boundary (an exit, a
 * migration, a continue-as-new): the run's state then says exactly where to pick up.
 */
export async function runCadence(host: CadenceHost, run: CadenceRun): Promise<void> {
  while (run.status !== 'done') {
    if (run.status === 'paused') {
      if (!(await resumeWhenDue(host, run))) return;
      continue;
    }
    const cadence = definitionOf(run, host.config);
    const step = cadence.steps[run.step];
    if (!step) return finish(run, 'completed');
    const next = await HANDLERS[stepKind(step)](host, run, step);
    // A pause stops the step where it is and waits above; anything else hands control to the host.
    if (next.to === 'stay') {
      if (isPaused(run)) continue;
      return;
    }
    advance(run, cadence, step, next);
  }
}

// Read through a function: TypeScript would otherwise assume a handler cannot have changed the status.
const isPaused = (run: CadenceRun) => run.status === 'paused';

/** The one place a run moves on. */
function advance(run: CadenceRun, cadence: Cadence, step: CadenceStep, next: Exclude<Next, { to: 'stay' }>): void {
  run.visits[step.id] = (run.visits[step.id] ?? 0) + 1;
  run.pending = undefined;
  if (next.to === 'exit') return finish(run, next.reason);
  const index = next.to === 'next' ? run.step + 1 : cadence.steps.findIndex((s) => s.id === next.id);
  // A branch back to an earlier step that keeps firing would loop forever: a step runs at most 100 times.
  if ((run.visits[cadence.steps[index]?.id ?? ''] ?? 0) >= 100) return finish(run, 'loop-limit');
  run.step = index;
}

export function finish(run: CadenceRun, reason: string): void {
  run.status = 'done';
  run.exit ??= reason;
  run.pending = undefined;
}

export function definitionOf(run: CadenceRun, config: Pick<Config, 'cadences'>): Cadence {
  const cadence = run.definition ?? config.cadences[run.cadence];
  if (!cadence) throw new Error(`no cadence named "${run.cadence}" in the journey's config`);
  return cadence;
}

const HANDLERS: Record<StepKind, Handler> = {
  email: (host, run, step) => touch(host, run, step, 'email'),
  sms: (host, run, step) => touch(host, run, step, 'sms'),
  task,
  wait,
  branch,
  exit: async (_host, _run, step) => ({ to: 'exit', reason: step.exit! }),
};

/** Moves the due time of the next touch; the touch itself waits for its window. */
async function wait(host: CadenceHost, run: CadenceRun, step: CadenceStep): Promise<Next> {
  const from = Math.max(Date.parse(run.dueAt), Date.parse(run.lastTouchAt ?? run.dueAt));
  if (step.wait === NEXT_BUSINESS_DAY) {
    const rules = await sendRules(host, run, 'email', from);
    run.dueAt = iso(nextBusinessDay(from, { ...rules, windows: host.config.sending.sandbox ? [] : rules.windows }).at);
  } else {
    run.dueAt = iso(from + durationMs(step.wait!));
  }
  return NEXT;
}

async function touch(host: CadenceHost, run: CadenceRun, step: CadenceStep, channel: 'email' | 'sms'): Promise<Next> {
  const visit = run.visits[step.id] ?? 0;
  const template = rotate(variantsOf(step[channel]!), visit + host.rotationOffset, run.lastTemplate);
  const to = channel === 'email' ? host.person.email : host.person.phone;
  const kept = run.pending?.stepId === step.id ? run.pending.shifted.filter((s) => s.reason === 'limit') : [];
  for (;;) {
    const due = Math.max(Date.parse(run.dueAt), Date.now());
    const opening = await openingFor(host, run, channel, due);
    const shifted = [...kept, ...opening.shifted];
    run.pending = { stepId: step.id, channel, at: iso(opening.at), local: localIso(opening.at, host.person.timezone!), shifted };
    const slept = await host.sleepUntil(opening.at, () => run.status === 'paused');
    if (slept !== 'due') return STAY;
    const record = (status: TouchRecord['status'], detail?: string, subject?: string): void =>
      host.onTouch({ cadence: run.cadence, stepId: step.id, channel, template, to: to ?? '', subject, status, detail, at: iso(Date.now()), shifted });
    if (!to) {
      record('skipped', 'no phone number for this contact');
      return NEXT;
    }
    const key = host.sendKey(`${run.cadence}/${step.id}/${visit + 1}`);
    const claimedAt = Date.now();
    const result = await settled({ key, journeyId: host.journeyId, kind: 'cadence', recipient: to }, () =>
      deliverTouch({
        key,
        journeyId: host.journeyId,
        channel,
        contact: host.person.email,
        to,
        at: iso(Date.now()),
        limits: host.config.sending.limits,
        template: { name: template, fallback: host.config.templates[template]! },
        context: host.context,
        unsubscribeId: host.unsubscribeId,
        unsubscribe: host.config.unsubscribe,
        sender: host.config.sender,
        smsFrom: host.config.sms?.from,
        messageRef: `${run.cadence}.${step.id}.${visit + 1}`,
        shifted: shifted.map(({ reason, detail }) => ({ reason, detail })),
      }),
    );
    if (result.status === 'deferred') {
      const until = Date.parse(result.until!);
      kept.push({ reason: 'limit', from: Date.now(), to: until, detail: result.detail ?? 'a sending limit' });
      run.dueAt = iso(until);
      continue;
    }
    record(result.status, result.detail, 'subject' in result ? result.subject : undefined);
    // An SMS skipped (the number texted STOP, or the contact is off SMS) leaves the e-mails to come:
    // the next e-mail step ends the run if the contact is off every channel. Runs recorded before
    // inbound SMS ended at any skip, and replay so.
    if (result.status === 'skipped' && !(channel === 'sms' && patched(SMS_SKIP_CONTINUES))) return { to: 'exit', reason: 'suppressed' };
    if (result.status === 'bounced') return { to: 'exit', reason: 'bounced' };
    if (result.status === 'sent') {
      run.touches++;
      run.lastTemplate = template;
      // Retried through an outage, it left well after its claim: later touches keep their distance from now.
      if (Date.now() - claimedAt > LATE_TOUCH_MS) await noteTouchTime({ key, at: iso(Date.now()) });
    }
    run.lastTouchAt = iso(Date.now());
    return NEXT;
  }
}

/** A manual touch for the owner, given when it is due: by e-mail, without waiting for the contact's window. */
async function task(host: CadenceHost, run: CadenceRun, step: CadenceStep): Promise<Next> {
  const due = Date.parse(run.dueAt);
  run.pending = { stepId: step.id, channel: step.task!, at: run.dueAt, local: localIso(due, host.person.timezone!), shifted: [] };
  if ((await host.sleepUntil(due, () => run.status === 'paused')) !== 'due') return STAY;
  const owner = host.taskOwner();
  const visit = run.visits[step.id] ?? 0;
  const key = host.sendKey(`${run.cadence}/${step.id}/${visit + 1}`);
  const template = step.template;
  const result = await settled({ key, journeyId: host.journeyId, kind: 'task', recipient: owner.email }, () =>
    deliverTask({
      key,
      journeyId: host.journeyId,
      owner,
      contact: host.person.email,
      at: iso(Date.now()),
      channel: step.task!,
      template: template ? { name: template, fallback: host.config.templates[template]! } : undefined,
      context: host.context,
      sender: host.config.sender,
      messageRef: `${run.cadence}.${step.id}.${visit + 1}`,
    }),
  );
  host.onTask({
    cadence: run.cadence,
    stepId: step.id,
    channel: step.task!,
    owner: owner.email,
    contact: host.person.email,
    status: 'open',
    createdAt: iso(Date.now()),
    notice: result.status,
  });
  return NEXT;
}

async function branch(host: CadenceHost, run: CadenceRun, step: CadenceStep): Promise<Next> {
  const rule = step.branch!;
  const taken = (yes: boolean): Next => (yes ? { to: 'step', id: rule.then } : rule.else ? { to: 'step', id: rule.else } : NEXT);
  if (rule.field) return taken(rule.equals!.some((value) => String(value).toLowerCase() === String(valueAt(host.context, rule.field!) ?? '').toLowerCase()));
  // "Opened within 3 days": counted from the last touch, so the contact had the whole window.
  const since = Date.parse(run.lastTouchAt ?? run.startedAt);
  const seen = () => host.seen(rule.event!, since);
  if (seen()) return taken(true);
  run.pending = undefined;
  const slept = await host.sleepUntil(since + durationMs(rule.within!), () => seen() || run.status === 'paused');
  if (slept === 'stop' || run.status === 'paused') return STAY;
  return taken(slept === 'met');
}

/** Paused (out of office until a date): picks up where it stopped, not before the return date. */
async function resumeWhenDue(host: CadenceHost, run: CadenceRun): Promise<boolean> {
  const until = run.pausedUntil ? Date.parse(run.pausedUntil) : Number.POSITIVE_INFINITY;
  const slept = await host.sleepUntil(until, () => run.status !== 'paused');
  if (slept === 'stop') return false;
  run.status = run.status === 'paused' ? 'running' : run.status;
  run.pausedUntil = undefined;
  run.dueAt = iso(Math.max(Date.parse(run.dueAt), Date.now()));
  return true;
}

/** The next variant in turn that is not the one sent last. */
export function rotate(variants: string[], turn: number, last: string | undefined): string {
  for (let i = 0; i < variants.length; i++) {
    const candidate = variants[(turn + i) % variants.length]!;
    if (candidate !== last || variants.length === 1) return candidate;
  }
  return variants[0]!;
}

async function openingFor(host: CadenceHost, run: CadenceRun, channel: 'email' | 'sms', due: number): Promise<Opening> {
  if (host.config.sending.sandbox) return { at: due, shifted: [] };
  return nextOpening(due, await sendRules(host, run, channel, due));
}

async function sendRules(host: CadenceHost, run: CadenceRun, channel: 'email' | 'sms', around: number): Promise<SendRules> {
  const { sending } = host.config;
  const timeZone = host.person.timezone!;
  const rules: SendRules = {
    timeZone,
    windows: sending.windows[channel].map((w) => ({ start: w.slice(0, 5), end: w.slice(6) })),
    businessDays: sending.businessDays.map((d) => WEEKDAYS.indexOf(d) + 1),
  };
  const country = host.person.country;
  if (!sending.holidays || !country) return rules;
  // The contact's holidays for this year and the next, fetched once per year and kept with the run.
  const year = new Date(around).getUTCFullYear();
  const years = [year - 1, year, year + 1];
  const calendar = run.calendar?.country === country ? run.calendar : { country, years: [], names: {} };
  const missing = years.filter((y) => !calendar.years.includes(y));
  if (missing.length) {
    const fetched = await publicHolidays({ country, years: missing });
    calendar.years = [...calendar.years, ...missing].sort();
    calendar.names = { ...calendar.names, ...fetched };
    run.calendar = calendar;
  }
  return { ...rules, holidays: Object.keys(calendar.names), holidayNames: calendar.names };
}

function valueAt(context: TemplateContext, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), context);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The host's wait: until t, until `met()`, or until `stop()` needs the run to halt at a boundary.
 * Housekeeping (the journal, search attributes) runs whenever the workflow wakes with work to do.
 */
export function sleeper(opts: { stop: () => boolean; housekeeping: () => Promise<void>; busy: () => boolean; wait?: Wait }) {
  const wait = opts.wait ?? conditionWait;
  return async (t: number, met?: () => boolean): Promise<SleepResult> => {
    for (;;) {
      if (opts.stop()) return 'stop';
      if (met?.()) return 'met';
      await opts.housekeeping();
      if (opts.stop()) return 'stop';
      if (met?.()) return 'met';
      if (Date.now() >= t) return 'due';
      const wake = () => opts.stop() || Boolean(met?.()) || opts.busy();
      await wait(wake, t);
    }
  };
}
