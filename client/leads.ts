// The operator's side of a journey: start one for a lead, ask where it is, tell it what happened.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { LeadSchema, type Lead } from '../config/lead';
import { longText, oneLine } from '../config/text';
import { addressOfJourney, leadJourneyId } from '../config/vocabulary';
import { BantSchema } from '../config/qualification';
import type { Config } from '../config/schema';
import { parseOrThrow } from '../config/validation';
import type { Store } from '../store';
import type { Suppression } from '../store/types';
import { BEHAVIOUR_EVENTS, JOURNEY_VERSION, LEAD_EVENTS, journeyStateQuery, type JourneyInput, type JourneyState, type LeadEvent } from '../workflows/messages';

/** Why an event or a look-up could not reach a journey; `status` is the HTTP status the intake answers. */
export class LeadRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 429,
  ) {
    super(message);
    this.name = 'LeadRequestError';
  }
}

export interface AddedLead {
  leadId: string;
  /** False when the lead already had a journey: adding a lead twice never starts a second one. */
  started: boolean;
  /** Set when the address must not be e-mailed: the journey runs, but its e-mails are skipped. */
  suppressed?: string;
}

/** A lead from outside (a file, a form, a CRM); throws a ValidationError naming every bad field. */
export function parseLead(data: unknown, subject = 'lead'): Lead {
  return parseOrThrow(LeadSchema, data, subject);
}

/**
 * Records the contact and starts the journey of a validated lead, following this config snapshot.
 * With `skipSuppressed` (a list import: a marketing list), a contact suppressed for e-mail gets no
 * journey and is not recorded; `suppressed` then says why nothing started.
 */
export async function addLead(
  client: Client,
  store: Store,
  taskQueue: string,
  config: Config,
  lead: Lead,
  configVersion?: number,
  { skipSuppressed = false }: { skipSuppressed?: boolean } = {},
): Promise<AddedLead> {
  const leadId = leadJourneyId(lead);
  const input: JourneyInput = { version: JOURNEY_VERSION, lead, config, ...(configVersion !== undefined && { configVersion }) };
  const suppression = await store.suppressionFor(lead.email, 'email');
  const suppressed = suppression && describeSuppression(suppression);
  if (suppressed && skipSuppressed) return { leadId, started: false, suppressed };
  await store.upsertContact(lead);
  try {
    await client.workflow.start('leadJourney', {
      workflowId: leadId,
      taskQueue,
      args: [input],
      // A closed journey (unsubscribed, nurtured to the end) is not restarted by a re-import.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return { leadId, started: true, ...(suppressed && { suppressed }) };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { leadId, started: false, ...(suppressed && { suppressed }) };
    throw err;
  }
}

export function describeSuppression(s: Suppression): string {
  return `${s.channel === 'all' ? 'every channel' : s.channel} suppressed since ${s.createdAt.toISOString()}: ${s.reason} (${s.source})`;
}

/**
 * Which journey a request means: its journey ID, or the lead's e-mail address. The two are distinct
 * parameters everywhere (API, webhook, CLI) and never guessed from the text: an address may itself
 * begin with "lead-".
 */
export type LeadRef = { id: string } | { email: string };

/** The journey's workflow ID and the contact's address; a 400 for an ID that is no lead journey's. */
export function resolveLead(ref: LeadRef): { journeyId: string; email: string } {
  if ('email' in ref) {
    const email = ref.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new LeadRequestError(`email: expected a lead's e-mail address such as "jane@acme.com", got "${ref.email}"`, 400);
    return { journeyId: leadJourneyId({ email }), email };
  }
  const email = addressOfJourney(ref.id);
  if (!email) throw new LeadRequestError(`id: expected a lead's journey ID such as "lead-jane@acme.com", got "${ref.id}" (to name a lead by its address, give its e-mail instead)`, 400);
  return { journeyId: ref.id, email };
}

/** How a message names the lead asked about. */
export function describeRef(ref: LeadRef): string {
  return 'email' in ref ? `the address ${ref.email}` : `journey ${ref.id}`;
}

export async function showLead(client: Client, ref: LeadRef): Promise<JourneyState & { status: string }> {
  const handle = client.workflow.getHandle(resolveLead(ref).journeyId);
  try {
    const [description, state] = await Promise.all([handle.describe(), handle.query(journeyStateQuery)]);
    return { ...state, status: description.status.name };
  } catch (err) {
    throw notFound(err, ref);
  }
}

const note = longText(2000).pipe(z.string().min(1));

/** What an event may carry, validated at the edge so a typo names its field. */
export const EventDetailSchema = z.strictObject({
  /** touched: the channel and how it went, and who made it (only the owner's touch meets an SLA). */
  channel: oneLine(50).optional(),
  outcome: oneLine(200).optional(),
  by: z.email({ error: 'expected the e-mail of the rep who made the touch' }).optional(),
  /** paused: the return date. */
  until: z.string().refine((v) => !Number.isNaN(Date.parse(v)), { error: 'expected a date such as "2027-01-05"' }).optional(),
  /** meeting-booked, opportunity: the notes handed on. */
  notes: note.optional(),
  /** closed-lost: why, as field sales records it (recycled nurture e-mails may quote it). */
  reason: note.optional(),
  ...BantSchema.shape,
});
export type EventDetail = z.infer<typeof EventDetailSchema>;

/** The signal an event is, and what it carries: behaviour events share one signal, BANT its four parts. */
export function signalFor(event: LeadEvent, detail: EventDetail): { name: string; args: unknown[] } {
  const { budget, authority, need, timeline, notes, reason, ...touch } = detail;
  if ((BEHAVIOUR_EVENTS as readonly string[]).includes(event)) return { name: 'behaviour', args: [{ type: event }] };
  const bant = Object.fromEntries(Object.entries({ budget, authority, need, timeline }).filter(([, v]) => v !== undefined));
  if (event === 'bant') {
    if (Object.keys(bant).length === 0) throw new LeadRequestError('bant: expected at least one of budget, authority, need, timeline', 400);
    return { name: 'bant', args: [bant] };
  }
  if (event === 'meeting-booked' || event === 'opportunity') return { name: event, args: notes ? [{ notes }] : [] };
  if (event === 'closed-lost') return { name: event, args: reason ? [{ reason }] : [] };
  const rest = Object.fromEntries(Object.entries(touch).filter(([, v]) => v !== undefined));
  return { name: event, args: Object.keys(rest).length ? [rest] : [] };
}

/**
 * Tells a journey what happened. An unsubscribe is first written to the store as a suppression on
 * every channel, so it holds even when the journey has ended (or never existed): it then reports
 * whether a running journey was also told.
 */
export async function sendLeadEvent(client: Client, store: Store, ref: LeadRef, event: string, source: string, detail: unknown = {}): Promise<{ delivered: boolean }> {
  const { journeyId, email } = resolveLead(ref);
  if (!(LEAD_EVENTS as readonly string[]).includes(event)) {
    throw new LeadRequestError(`event: "${event}" is not a lead event; expected one of ${LEAD_EVENTS.join(', ')}`, 400);
  }
  let checked: EventDetail;
  try {
    checked = parseOrThrow(EventDetailSchema, detail ?? {}, 'event');
  } catch (err) {
    throw new LeadRequestError((err as Error).message, 400);
  }
  const signal = signalFor(event as LeadEvent, checked);
  const unsubscribe = event === 'unsubscribed';
  if (unsubscribe) await store.suppress({ email, channel: 'all', reason: 'unsubscribed', source });
  const handle = client.workflow.getHandle(journeyId);
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') {
      if (unsubscribe) return { delivered: false };
      throw new LeadRequestError(`journey ${handle.workflowId} has ended (${status.name.toLowerCase()}); the ${event} event was not delivered`, 409);
    }
    await (handle.signal as (name: string, ...args: unknown[]) => Promise<void>)(signal.name, ...signal.args);
    return { delivered: true };
  } catch (err) {
    if (unsubscribe && isNotFound(err)) return { delivered: false };
    throw notFound(err, ref);
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err as Error)?.name === 'WorkflowNotFoundError';
}

function notFound(err: unknown, ref: LeadRef): unknown {
  if (isNotFound(err)) {
    const hint = 'email' in ref && addressOfJourney(ref.email) ? `; if "${ref.email}" is a journey ID, give it as an id (the CLI's --id)` : '';
    return new LeadRequestError(`no journey for ${describeRef(ref)} (looked for workflow ID ${resolveLead(ref).journeyId})${hint}`, 404);
  }
  return err;
}
