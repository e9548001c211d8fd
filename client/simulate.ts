// `pipewright cadence simulate`: the exact timeline a lead's journey or an account's program would
// follow, from the production workflow code itself. It runs on a private time-skipping test server
// with recording activities in place of the real ones: nothing is sent, nothing is stored, and two
// years of cadence pass in seconds. Limits are weighed with the same pure rule the store uses, over
// the touches recorded so far; windows, weekends and holidays are the workflow's own decisions,
// which it passes to deliverTouch as `shifted`.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Activities } from '../activities';
import type { DeliveryResult } from '../activities/deliver';
import type { TaskInput, TouchInput, TouchResult } from '../activities/touch';
import { accountProgramId, type Account } from '../config/account';
import { durationMs } from '../config/duration';
import type { Lead } from '../config/lead';
import { leadJourneyId } from '../config/vocabulary';
import type { Config } from '../config/schema';
import { parseOrThrow, ValidationError } from '../config/validation';
import { workflowsPath } from '../worker/worker';
import {
  CONTACT_EVENTS,
  contactEventSignal,
  JOURNEY_VERSION,
  journeyStateQuery,
  LEAD_EVENTS,
  type LeadEvent,
  programStateQuery,
  repAssignedSignal,
  type ContactEvent,
  type JourneyInput,
  type JourneyState,
  type ProgramInput,
  type ProgramState,
} from '../workflows/messages';
import { touchDecision } from '../workflows/rules/touchLimits';
import { localIso, timeZoneFor } from '../workflows/rules/sendWindow';
import { nextInTurn } from '../workflows/rules/team';
import { chooseRule, pickRep, type Skip, type TurnState } from '../workflows/rules/routing';
import { poolCandidates, poolManager, teamMember } from '../config/pools';
import type { AssignAnswer, AssignInput, ReleaseInput } from '../activities/routing';
import { teamEmail, type TeamMessageInput } from '../activities/teamMessages';
import type { DigestResult } from '../activities/digest';
import { signalFor } from './leads';
import { untilSettled } from './settle';
import { registerSearchAttributes } from './searchAttributes';
import { ensureServer } from './servers';
import { startTimeSkippingServer } from './timeSkippingServer';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** A start this little in the past is "now": the server itself took that long to start. */
const START_SLACK_MS = 60_000;

export interface SimulationInput {
  config: Config;
  /** Exactly one of lead and account. */
  lead?: Lead;
  account?: Account;
  events?: SimulatedEvent[];
  /** How long to simulate at most, from the start: "2y" (365-day years), "18w", "90d"... Default "2y". */
  until?: string;
  /** When the journey starts; now when left out. It cannot be in the past (the test server's clock only moves forward). */
  start?: Date;
  onProgress?: (line: string) => void;
}

/** Something the contact does during the simulation, at a time from the start (`after`) or at an instant (`at`). */
export interface SimulatedEvent {
  /** From the start, e.g. "12d" or "1y". */
  after?: string;
  /** An ISO instant. */
  at?: string;
  /** A lead event (replied, opened, touched, unsubscribed, paused, ...) or, for accounts, a contact event. */
  event: string;
  /** For accounts: which contact (their e-mail). */
  contact?: string;
  channel?: string;
  outcome?: string;
  /** For `paused`: the return date, an ISO instant or a duration from the start. */
  until?: string;
  /** For `touched`: the rep who made it (only the owner's touch meets an SLA). */
  by?: string;
  /** For `meeting-booked` and `opportunity`: the notes handed on. */
  notes?: string;
  /** For `closed-lost`: why. */
  reason?: string;
}

export type SimulatedChannel = 'email' | 'sms' | 'call' | 'linkedin' | 'other';

export interface SimulatedTouch {
  /** ISO UTC, on the journey's clock. */
  at: string;
  /** The same instant on the contact's clock, with its offset. */
  local: string;
  channel: SimulatedChannel;
  /** touch: to the contact; task: the owner's manual touch; rep-notice / escalation: internal e-mails. */
  kind: 'touch' | 'task' | 'rep-notice' | 'escalation' | 'team';
  /** The cadence step's id (for internal messages, the kind). */
  step: string;
  /** The cadence's name; empty for messages outside a cadence. */
  cadence: string;
  template?: string;
  /** Who receives it: the contact's address or phone for touches, the team member for the rest. */
  to: string;
  /** The contact it is about. */
  contact: string;
  /** Every reason it left later than due (window, weekend, holiday, limit); empty when on time. */
  shifted: { reason: string; detail: string }[];
  /** sent, or skipped (no phone number, suppressed). */
  status: string;
  detail?: string;
}

export interface SimulationOutcome {
  /** completed: the workflow ended by itself; running: still going when the simulation stopped (then terminated). */
  status: 'completed' | 'running' | 'failed' | 'terminated' | 'cancelled' | 'timed-out' | 'continued-as-new' | 'unknown';
  /** The journey's or program's own outcome (converted, no-reply, handed-over, ...), when it ended. */
  outcome?: string;
  /** When it ended or was stopped, on the journey's clock. */
  at: string;
  error?: string;
  /** Events not applied, and why (after the until cap, or the journey had ended). */
  skippedEvents: string[];
  /** The workflow's state at the end. */
  state?: JourneyState | ProgramState;
}

export interface SimulationResult {
  touches: SimulatedTouch[];
  outcome: SimulationOutcome;
  /** Journey time covered, from the start to the end or the cap. */
  simulatedMs: number;
  /** Wall-clock time the whole simulation took, server start and bundling included. */
  elapsedMs: number;
  /** Wall-clock time of the bundling (or of reading the cached bundle). */
  bundleMs: number;
}

const SimulatedEventSchema = z.strictObject({
  after: z.string().min(1).optional(),
  at: z.string().min(1).optional(),
  event: z.string().min(1),
  contact: z.string().min(1).optional(),
  channel: z.string().min(1).optional(),
  outcome: z.string().min(1).optional(),
  until: z.string().min(1).optional(),
  by: z.string().min(1).optional(),
  notes: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
});
const SimulatedEventsSchema = z.union([z.array(SimulatedEventSchema), z.strictObject({ events: z.array(SimulatedEventSchema) })]);

/**
 * An events file (`--events FILE`): YAML or JSON, a list of events or `{ events: [...] }`, e.g.
 * `- { after: 12d, event: replied }`. Their times and names are checked when the simulation starts.
 */
export function parseSimulatedEvents(text: string, subject = 'events'): SimulatedEvent[] {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ValidationError(subject, [(err as Error).message.split('\n')[0]!]);
  }
  const parsed = parseOrThrow(SimulatedEventsSchema, data ?? [], subject);
  return Array.isArray(parsed) ? parsed : parsed.events;
}

export function loadSimulatedEvents(file: string): SimulatedEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError(file, [`cannot read the file: ${(err as Error).message}`]);
  }
  return parseSimulatedEvents(text, file);
}

/** Durations as the config writes them ("3d", "52w"), plus "Ny" for N years of 365 days. */
export function simulationDurationMs(text: string): number {
  const years = /^(\d+)y$/.exec(text.trim());
  if (years) return Number(years[1]) * 365 * DAY;
  return durationMs(text.trim());
}

export async function simulate(input: SimulationInput): Promise<SimulationResult> {
  const began = Date.now();
  const progress = input.onProgress ?? (() => {});
  const target = targetOf(input);
  const capMs = simulationDurationMs(input.until ?? '2y');
  if (capMs <= 0) throw new Error(`until "${input.until}": expected a duration longer than zero`);
  // Validated before any server starts, so a typo fails at once.
  const planned = (input.events ?? []).map((event, i) => checkEvent(event, i, target));
  if (input.start) checkStart(input.start, Date.now());

  quietRuntime();
  progress('starting the time-skipping test server');
  const [env, bundle] = await Promise.all([
    ensureServer('test-server', progress).then((path) => startTimeSkippingServer(path)),
    workflowBundle(progress),
  ]);
  try {
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
    const recorder = new Recorder();
    const taskQueue = `simulate-${process.pid}-${Date.now()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      workflowBundle: bundle.option,
      activities: recordingActivities(env.client, recorder),
      // A bug fails the simulated workflow with its error, where production would retry the task until fixed.
      workflowFailureErrorTypes: { '*': ['Error'] },
    });
    const result = await worker.runUntil(run(env, taskQueue, input, target, planned, capMs, recorder, progress));
    const touches = timeline(recorder, result.state, target);
    const elapsedMs = Date.now() - began;
    progress(`simulated ${Math.round(result.simulatedMs / DAY)} days in ${(elapsedMs / 1000).toFixed(1)} s`);
    return { touches, outcome: result.outcome, simulatedMs: result.simulatedMs, elapsedMs, bundleMs: bundle.ms };
  } finally {
    await env.teardown();
  }
}

/** What is simulated: a lead's journey or an account's program, with its contacts' clocks. */
interface Target {
  kind: 'lead' | 'account';
  workflowId: string;
  workflowType: 'leadJourney' | 'accountProgram';
  args: [JourneyInput] | [ProgramInput];
  /** The time zone of each contact, by lower-case e-mail. */
  zones: Map<string, string>;
  defaultZone: string;
}

function targetOf({ config, lead, account }: SimulationInput): Target {
  if (Boolean(lead) === Boolean(account)) throw new Error('simulate needs exactly one of a lead and an account');
  const defaultZone = config.sending.timezone;
  if (lead) {
    const zones = new Map([[lead.email.trim().toLowerCase(), timeZoneFor(lead, defaultZone)]]);
    return { kind: 'lead', workflowId: leadJourneyId(lead), workflowType: 'leadJourney', args: [{ version: JOURNEY_VERSION, lead, config }], zones, defaultZone };
  }
  const a = account!;
  if (!config.tiers) throw new Error('the config has no tiers section: account programs need tiers.programs (see config/examples/default.yaml)');
  // As accountProgram.ts reads a contact's clock: their own zone, else their or the account's country, else the account's region.
  const zones = new Map(
    a.contacts.map((c) => [c.email.trim().toLowerCase(), timeZoneFor({ timezone: c.timezone, country: c.country ?? a.country, region: a.region }, defaultZone)] as const),
  );
  return { kind: 'account', workflowId: accountProgramId(a), workflowType: 'accountProgram', args: [{ version: 1, account: a, config }], zones, defaultZone };
}

interface PlannedEvent {
  event: SimulatedEvent;
  /** Where it is in the list, for messages. */
  label: string;
}

function checkEvent(event: SimulatedEvent, i: number, target: Target): PlannedEvent {
  const label = `events[${i}] (${event.event}${event.after ? ` after ${event.after}` : ''}${event.at ? ` at ${event.at}` : ''})`;
  if (!event.after === !event.at) throw new Error(`${label}: give exactly one of "after" (a duration from the start, e.g. "12d") and "at" (an ISO instant)`);
  if (event.after) simulationDurationMs(event.after);
  if (event.at && !Number.isFinite(Date.parse(event.at))) throw new Error(`${label}: "${event.at}" is not an ISO instant`);
  if (target.kind === 'lead') {
    if (!(LEAD_EVENTS as readonly string[]).includes(event.event)) throw new Error(`${label}: "${event.event}" is not a lead event; expected one of ${LEAD_EVENTS.join(', ')}`);
  } else {
    if (!(CONTACT_EVENTS as string[]).includes(event.event)) throw new Error(`${label}: "${event.event}" is not a contact event; expected one of ${CONTACT_EVENTS.join(', ')}`);
    if (!event.contact) throw new Error(`${label}: an account's event needs "contact", the e-mail of one of its contacts`);
    if (!target.zones.has(event.contact.trim().toLowerCase())) throw new Error(`${label}: ${event.contact} is not one of the account's contacts`);
  }
  if (event.until && !isInstantOrDuration(event.until)) throw new Error(`${label}: until "${event.until}" is neither an ISO instant nor a duration such as "10d"`);
  return { event, label };
}

function isInstantOrDuration(text: string): boolean {
  try {
    simulationDurationMs(text);
    return true;
  } catch {
    return Number.isFinite(Date.parse(text));
  }
}

/** An ISO instant, or a duration counted from the start. */
function instantOf(text: string, start: number): number {
  try {
    return start + simulationDurationMs(text);
  } catch {
    return Date.parse(text);
  }
}

/** The test server's clock starts at the real now and only moves forward: a start before it cannot be simulated. */
function checkStart(start: Date, now: number): number {
  const t = start.getTime();
  if (!Number.isFinite(t)) throw new Error('start is not a valid date');
  if (t < now - START_SLACK_MS) {
    throw new Error(`start ${start.toISOString()} is in the past: a simulation runs forward from now (${new Date(now).toISOString()}); give a later start, or none to start now`);
  }
  return t;
}

interface RunResult {
  outcome: SimulationOutcome;
  simulatedMs: number;
  state?: JourneyState | ProgramState;
}

async function run(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  input: SimulationInput,
  target: Target,
  planned: PlannedEvent[],
  capMs: number,
  recorder: Recorder,
  progress: (line: string) => void,
): Promise<RunResult> {
  let now = await env.currentTimeMs();
  if (input.start) {
    const start = checkStart(input.start, now);
    if (start > now) {
      await env.sleep(start - now);
      now = await env.currentTimeMs();
    }
  }
  const start = now;
  const capAt = start + capMs;
  progress(`simulating ${target.kind === 'lead' ? 'the journey of' : 'the program of'} ${target.workflowId.replace(/^(lead|account)-/, '')} from ${new Date(start).toISOString()}`);

  const handle = await env.client.workflow.start(target.workflowType, { workflowId: target.workflowId, taskQueue, args: target.args });
  const skippedEvents: string[] = [];
  const events = planned
    .map((p) => ({ ...p, at: p.event.at ? Date.parse(p.event.at) : start + simulationDurationMs(p.event.after!) }))
    .sort((a, b) => a.at - b.at);
  for (const { event, label, at } of events) {
    if (at > capAt) {
      skippedEvents.push(`${label}: after the end of the simulation (${new Date(capAt).toISOString()})`);
      continue;
    }
    await untilSettled(handle);
    now = await env.currentTimeMs();
    if (at > now) await env.sleep(at - now);
    else if (at < start) {
      skippedEvents.push(`${label}: before the start (${new Date(start).toISOString()})`);
      continue;
    }
    if ((await handle.describe()).status.name !== 'RUNNING') {
      skippedEvents.push(`${label}: the ${target.kind === 'lead' ? 'journey' : 'program'} had already ended`);
      continue;
    }
    await signal(handle, target, event, start);
    progress(`day ${((at - start) / DAY).toFixed(1)}: ${event.event}${event.contact ? ` from ${event.contact}` : ''}`);
  }

  // The clock runs on to the cap: past the workflow's end nothing is left to wait for, so that part is instant.
  await untilSettled(handle);
  now = await env.currentTimeMs();
  if (capAt > now) await env.sleep(capAt - now);
  const description = await handle.describe();
  const status = description.status.name;
  if (status === 'RUNNING') {
    const state = await queryState(handle, target);
    await handle.terminate('the simulation reached its end (--until)');
    return { outcome: { status: 'running', at: new Date(capAt).toISOString(), skippedEvents, state }, simulatedMs: capMs, state };
  }
  const closedAt = description.closeTime?.getTime() ?? capAt;
  const simulatedMs = Math.max(0, closedAt - start);
  if (status === 'COMPLETED') {
    const state = (await handle.result()) as JourneyState | ProgramState;
    return { outcome: { status: 'completed', outcome: state?.outcome, at: new Date(closedAt).toISOString(), skippedEvents, state }, simulatedMs, state };
  }
  let error: string | undefined;
  try {
    await handle.result();
  } catch (err) {
    error = causeChain(err);
  }
  const named = { FAILED: 'failed', TERMINATED: 'terminated', CANCELLED: 'cancelled', TIMED_OUT: 'timed-out', CONTINUED_AS_NEW: 'continued-as-new' } as const;
  return { outcome: { status: named[status as keyof typeof named] ?? 'unknown', at: new Date(closedAt).toISOString(), error, skippedEvents }, simulatedMs };
}

async function signal(handle: WorkflowHandle, target: Target, event: SimulatedEvent, start: number): Promise<void> {
  const until = event.until ? new Date(instantOf(event.until, start)).toISOString() : undefined;
  if (target.kind === 'account') {
    const contactEvent: ContactEvent = {
      contact: event.contact!,
      type: event.event as ContactEvent['type'],
      ...(event.channel !== undefined && { channel: event.channel }),
      ...(event.outcome !== undefined && { outcome: event.outcome }),
      ...(until !== undefined && { until }),
    };
    await handle.signal(contactEventSignal, contactEvent);
    return;
  }
  // The signal and payload `pipewright lead event` sends for the same event.
  const detail = Object.fromEntries(Object.entries({ channel: event.channel, outcome: event.outcome, by: event.by, notes: event.notes, reason: event.reason, until }).filter(([, v]) => v !== undefined));
  const signal = signalFor(event.event as LeadEvent, detail);
  await (handle.signal as (name: string, ...args: unknown[]) => Promise<void>)(signal.name, ...signal.args);
}

async function queryState(handle: WorkflowHandle, target: Target): Promise<JourneyState | ProgramState | undefined> {
  try {
    return target.kind === 'lead' ? await handle.query(journeyStateQuery) : await handle.query(programStateQuery);
  } catch {
    return undefined;
  }
}

function causeChain(err: unknown): string {
  const messages: string[] = [];
  for (let e = err as Error | undefined; e; e = e.cause as Error | undefined) messages.push(e.message);
  return messages.join(': ') || String(err);
}

/** What the recording activities saw, in the order they saw it. */
export class Recorder {
  readonly messages: Omit<SimulatedTouch, 'local'>[] = [];
  /** Touch times (epoch ms) per contact and per mailbox, like the store's `sends.touch_at`. */
  readonly byContact = new Map<string, number[]>();
  readonly byMailbox = new Map<string, number[]>();
  /** A touch key's answer once settled, like the send ledger's row. */
  readonly settled = new Map<string, TouchResult>();
  readonly suppressed = new Set<string>();
  /** The last rep handed out per role: the rotation's turn (version-3 journeys). */
  readonly lastRep = new Map<string, string>();
  /** The store's routing over memory: each pool's turn and each rep's open leads. */
  readonly turns = new Map<string, TurnState>();
  readonly openLeads = new Map<string, number>();
  readonly owners = new Map<string, string>();
}

const normal = (email: string) => email.trim().toLowerCase();

/** Splits "nurture.guide.1" (cadence, step id, visit) as the engine writes a message's ref. */
function stepOf(messageRef: string): { cadence: string; step: string } {
  const parts = messageRef.split('.');
  if (parts.length < 3) return { cadence: '', step: messageRef };
  return { cadence: parts.slice(0, -2).join('.'), step: parts[parts.length - 2]! };
}

/** The activity's schedule time on the server's clock: the journey's time, as the time-skipping server keeps it. */
function scheduledAt(): string {
  return new Date(Context.current().info.scheduledTimestampMs).toISOString();
}

/**
 * Activities with the same names and types as the worker's, recording instead of sending. A new
 * activity in activities/index.ts fails to compile here until the simulator knows what to do with it.
 */
export function recordingActivities(client: Client, recorder: Recorder) {
  const activities = {
    requestRep: async ({ role, reps, leadId }: { role: string; reps: string[]; leadId: string }): Promise<void> => {
      // The rotation's answer, without the rotation workflow: the next rep in turn, the first one at first.
      const rep = nextInTurn(reps, recorder.lastRep.get(role));
      recorder.lastRep.set(role, rep);
      await client.workflow.getHandle(leadId).signal(repAssignedSignal, { rep });
    },
    assignLead: async (input: AssignInput): Promise<AssignAnswer> => assignInMemory(recorder, input),
    releaseLead: async ({ leadId }: ReleaseInput): Promise<{ released: boolean; assigned: string[] }> => {
      const rep = recorder.owners.get(leadId);
      if (rep) recorder.openLeads.set(rep, (recorder.openLeads.get(rep) ?? 1) - 1);
      recorder.owners.delete(leadId);
      return { released: rep !== undefined, assigned: [] };
    },
    deliverTeamMessage: async (input: TeamMessageInput): Promise<DeliveryResult> => {
      const email = teamEmail(input);
      recorder.messages.push({
        at: input.at ?? scheduledAt(),
        channel: input.kind === 'escalation' && input.channel === 'sms' ? 'sms' : 'email',
        kind: input.kind === 'escalation' ? 'escalation' : 'team',
        step: input.kind,
        cadence: '',
        to: email.to.address,
        contact: input.lead.email,
        shifted: [],
        status: 'sent',
        detail: email.subject,
      });
      return { status: 'sent' };
    },
    deliverRepNotice: async (input: Parameters<Activities['deliverRepNotice']>[0]): Promise<DeliveryResult> => {
      recorder.messages.push({
        // Within milliseconds; set to the rep's assignment time from the final state (see timeline).
        at: input.at ?? scheduledAt(),
        channel: 'email',
        kind: 'rep-notice',
        step: 'rep-notice',
        cadence: '',
        to: input.rep.email,
        contact: input.lead.email,
        shifted: [],
        status: 'sent',
        ...(input.firstTouchDue && { detail: `first touch due by ${input.firstTouchDue}` }),
      });
      return { status: 'sent' };
    },
    deliverEscalation: async (input: Parameters<Activities['deliverEscalation']>[0]): Promise<DeliveryResult> => {
      recorder.messages.push({
        // The workflow computed lateMs from its own clock: due + lateMs is exactly when it sent this.
        at: new Date(Date.parse(input.due) + input.lateMs).toISOString(),
        channel: 'email',
        kind: 'escalation',
        step: 'sla-breach',
        cadence: '',
        to: input.manager.email,
        contact: input.lead.email,
        shifted: [],
        status: 'sent',
        detail: `first touch by ${input.rep.email} was due ${input.due}`,
      });
      return { status: 'sent' };
    },
    deliverCadenceEmail: async (input: Parameters<Activities['deliverCadenceEmail']>[0]): Promise<DeliveryResult & { subject: string }> => {
      // Only journeys of the second input version call this; the simulator starts current ones.
      return { status: 'sent', subject: input.step.subject };
    },
    deliverTouch: async (input: TouchInput): Promise<TouchResult> => deliverTouch(recorder, input),
    deliverTask: async (input: TaskInput): Promise<DeliveryResult> => {
      const { cadence, step } = stepOf(input.messageRef);
      recorder.messages.push({
        at: input.at ?? scheduledAt(),
        channel: channelOf(input.channel),
        kind: 'task',
        step,
        cadence,
        ...(input.template && { template: input.template.name }),
        to: input.owner.email,
        contact: input.contact,
        shifted: [],
        status: 'sent',
        ...(input.note && { detail: input.note.split('\n')[0] }),
      });
      return { status: 'sent' };
    },
    publicHolidays: async ({ country, years }: { country: string; years: number[] }): Promise<Record<string, string>> => {
      // Loaded on first use: date-holidays is large, and a sandbox config never asks.
      const { holidayNamesFor } = await import('../activities/holidays');
      return holidayNamesFor(country, years);
    },
    // The simulator runs one journey or program; the schedule's digest is not part of it.
    sendManagerDigests: async (): Promise<DigestResult[]> => [],
    settleFailedSend: async (): Promise<void> => {},
    // Recorded touches never fail, so none leaves late.
    noteTouchTime: async (): Promise<void> => {},
    suppressContact: async ({ email }: { email: string }): Promise<void> => {
      recorder.suppressed.add(normal(email));
    },
    recordJourneyEvents: async (): Promise<void> => {},
    // The first version's activities: the simulator never starts such a journey, but the worker registers them.
    notifyRep: async (): Promise<void> => {},
    escalateSlaBreach: async (): Promise<void> => {},
    sendCadenceEmail: async (input: Parameters<Activities['sendCadenceEmail']>[0]): Promise<{ subject: string }> => ({ subject: input.step.subject }),
  } satisfies Activities;
  return activities;
}

/** The store's assignment over memory: the same rule and strategy code, with nobody away. */
function assignInMemory(recorder: Recorder, input: AssignInput): AssignAnswer {
  const { routing } = input.snapshot;
  const choice = input.purpose === 'meeting' ? routing.meetingPool && { pool: routing.meetingPool, rule: 'routing.meetingPool' } : chooseRule(routing, { lead: input.lead, grade: input.grade });
  if (!choice || !routing.pools[choice.pool]) return { status: 'no-pool', detail: 'no pool for this lead' };
  const known = recorder.owners.get(input.leadId);
  const team = (email: string) => teamMember(input.snapshot, email)!;
  const strategy = routing.pools[choice.pool]!.strategy;
  const answer = (rep: string, skipped: Skip[]): AssignAnswer => ({ status: 'assigned', rep: team(rep), created: true, pool: choice.pool, rule: choice.rule, strategy, skipped, assignedAt: input.at });
  if (known && !input.reassignFrom) return answer(known, []);
  const candidates = poolCandidates(input.snapshot, choice.pool).map((c) => ({ ...c, openLeads: recorder.openLeads.get(c.email) ?? 0 }));
  const picked = pickRep(strategy, candidates, recorder.turns.get(choice.pool) ?? {}, { now: new Date(input.at), respectWorkingHours: routing.respectWorkingHours, exclude: input.reassignFrom ? [input.reassignFrom] : [] });
  if (!picked.rep) return { status: 'queued', pool: choice.pool, position: 1, skipped: picked.skipped, newlyQueued: true, manager: poolManager(input.snapshot, choice.pool) };
  recorder.turns.set(choice.pool, picked.turn);
  if (known) recorder.openLeads.set(known, (recorder.openLeads.get(known) ?? 1) - 1);
  recorder.owners.set(input.leadId, picked.rep);
  recorder.openLeads.set(picked.rep, (recorder.openLeads.get(picked.rep) ?? 0) + 1);
  return answer(picked.rep, picked.skipped);
}

function channelOf(channel: string): SimulatedChannel {
  return channel === 'email' || channel === 'sms' || channel === 'call' || channel === 'linkedin' ? channel : 'other';
}

/**
 * The store's claimTouch over memory: a key already settled answers as it did; otherwise the touch
 * is weighed by touchDecision against the contact's and the mailbox's recorded touches, and is
 * either recorded as sent at the journey's time or deferred until every limit allows it.
 */
function deliverTouch(recorder: Recorder, input: TouchInput): TouchResult {
  const known = recorder.settled.get(input.key);
  if (known) return known;
  const contact = normal(input.contact);
  const mailbox = input.channel === 'email' ? normal(input.sender.email) : undefined;
  const at = Date.parse(input.at);
  if (!Number.isFinite(at)) throw new Error(`deliverTouch for ${input.key}: at "${input.at}" is not an instant`);
  const { perContact, perMailbox } = input.limits;
  // Only touches that can still count at `at` or later, as the store selects them.
  const contactSince = perContact?.perWeek !== undefined ? at - WEEK : perContact?.perDay !== undefined ? at - DAY : undefined;
  const mailboxSince = mailbox !== undefined && perMailbox?.perDay !== undefined ? at - DAY : undefined;
  const recent = {
    contact: contactSince === undefined ? [] : (recorder.byContact.get(contact) ?? []).filter((t) => t >= contactSince),
    mailbox: mailboxSince === undefined ? [] : (recorder.byMailbox.get(mailbox!) ?? []).filter((t) => t >= mailboxSince),
  };
  const decision = touchDecision(at, recent, input.limits);
  if (!decision.allowed) return { status: 'deferred', until: new Date(decision.until).toISOString(), detail: decision.reason };

  const { cadence, step } = stepOf(input.messageRef);
  const record = (status: 'sent' | 'skipped', detail?: string): TouchResult => {
    recorder.messages.push({
      at: input.at,
      channel: input.channel,
      kind: 'touch',
      step,
      cadence,
      template: input.template.name,
      to: input.to,
      contact: input.contact,
      shifted: (input.shifted ?? []).map(({ reason, detail }) => ({ reason, detail })),
      status,
      ...(detail && { detail }),
    });
    const result: TouchResult = { status, ...(detail && { detail }) };
    recorder.settled.set(input.key, result);
    return result;
  };
  // Like the store, the claim counts as a touch even when the suppression check then skips the send.
  push(recorder.byContact, contact, at);
  if (mailbox !== undefined) push(recorder.byMailbox, mailbox, at);
  if (recorder.suppressed.has(contact)) return record('skipped', 'suppressed: unsubscribed during the simulation');
  return record('sent');
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * The recorded messages with local times, in time order; plus the touches the engine settled
 * without an activity (an SMS step for a contact without a phone number), from the final state
 * (which keeps each contact's latest 50 sends).
 */
function timeline(recorder: Recorder, state: JourneyState | ProgramState | undefined, target: Target): SimulatedTouch[] {
  const messages = [...recorder.messages];
  const settledByEngine = (contact: string, sends: JourneyState['sends']) => {
    for (const send of sends) {
      // The engine's own skip has no address to send to; every other touch went through deliverTouch.
      if (send.status !== 'skipped' || send.to !== '') continue;
      messages.push({
        at: send.at,
        channel: send.channel,
        kind: 'touch',
        step: send.stepId,
        cadence: send.cadence,
        template: send.template,
        to: send.to,
        contact,
        shifted: send.shifted.map(({ reason, detail }) => ({ reason, detail })),
        status: send.status,
        ...(send.detail && { detail: send.detail }),
      });
    }
  };
  if (state && 'sends' in state) {
    settledByEngine(state.email, state.sends);
    // The notice is sent in the same workflow task that assigns the rep: assignedAt is its exact time,
    // where the activity's schedule time is a few milliseconds later.
    const notice = messages.find((m) => m.kind === 'rep-notice' && normal(m.to) === normal(state.owner?.email ?? ''));
    if (notice && state.owner) notice.at = state.owner.assignedAt;
  }
  if (state && 'contacts' in state) for (const c of state.contacts) settledByEngine(c.email, c.sends);
  return messages
    .map((m, i) => ({ m, i }))
    .sort((a, b) => Date.parse(a.m.at) - Date.parse(b.m.at) || a.i - b.i)
    .map(({ m }) => {
      const zone = target.zones.get(normal(m.contact)) ?? target.defaultZone;
      return { ...m, local: localIso(Date.parse(m.at), zone) };
    });
}

export interface TimelineOptions {
  /** Leave out the indented lines that say why a touch moved. */
  hideShifts?: boolean;
  /** Name the contact on every line (an account's program reaches several). */
  showContact?: boolean;
}

/**
 * One line per message: "2026-12-01 13:00 UTC  2026-12-01 08:00-05:00  email  nurture/guide  nurture-guide  -> dana@x.example",
 * each followed by an indented "moved (weekend): Saturday and Sunday are not business days" per shift.
 */
export function formatTimeline(touches: SimulatedTouch[], opts: TimelineOptions = {}): string[] {
  const showContact = opts.showContact ?? new Set(touches.map((t) => normal(t.contact))).size > 1;
  const rows = touches.map((t) => ({
    t,
    utc: t.at ? `${t.at.slice(0, 10)} ${t.at.slice(11, 16)} UTC` : '(internal)',
    local: t.local ? `${t.local.slice(0, 10)} ${t.local.slice(11, 16)}${t.local.slice(19)}` : '',
    step: t.cadence ? `${t.cadence}/${t.step}` : t.step,
    template: t.template ?? (t.kind === 'task' ? '(task)' : t.kind === 'touch' ? '' : `(${t.kind})`),
  }));
  const width = (pick: (r: (typeof rows)[number]) => string) => Math.max(0, ...rows.map((r) => pick(r).length));
  const w = { utc: width((r) => r.utc), local: width((r) => r.local), channel: width((r) => r.t.channel), step: width((r) => r.step), template: width((r) => r.template) };
  const lines: string[] = [];
  for (const r of rows) {
    const { t } = r;
    const address = t.to || '(no address)';
    const to = t.kind === 'touch' ? `-> ${address}` : `-> ${address}${t.kind === 'task' || showContact ? ` (about ${t.contact})` : ''}`;
    const who = t.kind === 'touch' && (showContact || !t.to) && normal(t.to) !== normal(t.contact) ? ` (${t.contact})` : '';
    const status = t.status === 'sent' ? '' : `  [${t.status}${t.detail ? `: ${t.detail}` : ''}]`;
    lines.push(
      [r.utc.padEnd(w.utc), r.local.padEnd(w.local), t.channel.padEnd(w.channel), r.step.padEnd(w.step), r.template.padEnd(w.template), `${to}${who}${status}`].join('  ').replace(/\s+$/, ''),
    );
    if (!opts.hideShifts) for (const s of t.shifted) lines.push(`    moved (${s.reason}): ${s.detail}`);
  }
  return lines;
}

/** The closing lines of the human output: how the journey ended (or that it was still going), and events not applied. */
export function formatOutcome(result: Pick<SimulationResult, 'outcome' | 'simulatedMs' | 'elapsedMs'>): string[] {
  const { outcome } = result;
  const days = `day ${Math.round((result.simulatedMs / DAY) * 10) / 10}`;
  const took = `simulated in ${(result.elapsedMs / 1000).toFixed(1)} s`;
  const lines = [
    outcome.status === 'completed'
      ? `ended: ${outcome.outcome ?? 'completed'} at ${outcome.at} (${days}); ${took}`
      : outcome.status === 'running'
        ? `still running at the end of the simulation, ${outcome.at} (${days}); ${took}`
        : `${outcome.status} at ${outcome.at} (${days})${outcome.error ? `: ${outcome.error}` : ''}; ${took}`,
  ];
  for (const skipped of outcome.skippedEvents) lines.push(`not applied: ${skipped}`);
  return lines;
}

/** The worker's logs go to stderr and only when they matter: stdout is the timeline (or its JSON). */
function quietRuntime(): void {
  try {
    // Core's own warnings (the test server does not advertise every capability) are noise here.
    Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } } });
  } catch {
    // Installed already (by the CLI, a test or an earlier simulation): keep it.
  }
}

/**
 * The same workflow code the worker runs, bundled once and kept in a temp file keyed by the
 * contents of the files it is built from and the SDK's version, so a later simulation (even after
 * a rebuild that changed nothing there) starts without the bundler.
 */
async function workflowBundle(progress: (line: string) => void): Promise<{ option: NonNullable<WorkerOptions['workflowBundle']>; ms: number }> {
  const began = Date.now();
  const entry = workflowsPath();
  const file = join(tmpdir(), `pipewright-workflows-${bundleKey(entry)}.js`);
  if (existsSync(file)) {
    progress(`workflows: bundle from ${file}`);
    return { option: { codePath: file }, ms: Date.now() - began };
  }
  progress('bundling workflows');
  const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: new DefaultLogger('WARN') });
  const ms = Date.now() - began;
  progress(`bundled workflows in ${(ms / 1000).toFixed(1)} s`);
  try {
    // Keeps a few (the built CLI's and the tests' differ), not every bundle ever made.
    const cached = readdirSync(tmpdir())
      .filter((name) => /^pipewright-workflows-[0-9a-f]+\.js$/.test(name))
      .map((name) => ({ path: join(tmpdir(), name), at: statSync(join(tmpdir(), name)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const old of cached.slice(3)) unlinkSync(old.path);
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  } catch {
    // A temp folder we cannot write to only costs the next run its bundling.
  }
  return { option: { code }, ms };
}

function bundleKey(entry: string): string {
  const root = dirname(dirname(entry));
  const hash = createHash('sha256').update(`${entry}\n`);
  try {
    hash.update(readFileSync(require.resolve('@temporalio/workflow/package.json')));
  } catch {
    hash.update('unknown-sdk');
  }
  // What the workflows import from: their own folder, the config rules, and the type-only imports' folders (a few hundred KB).
  for (const dir of ['workflows', 'config', 'activities', 'store']) {
    for (const path of filesUnder(join(root, dir))) hash.update(`${path}\n`).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : /\.(js|ts|json)$/.test(e.name) ? [join(dir, e.name)] : []));
}
