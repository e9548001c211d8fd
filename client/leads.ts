// The operator's side of a journey: start one for a lead, ask where it is, tell it what happened.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { LeadSchema, leadJourneyId, type Lead } from '../config/lead';
import type { Config } from '../config/schema';
import { parseOrThrow } from '../config/validation';
import { LEAD_EVENTS, journeyStateQuery, type JourneyInput, type JourneyState, type LeadEvent } from '../workflows/messages';

/** Why an event or a look-up could not reach a journey; `status` is the HTTP status the intake answers. */
export class LeadRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
    this.name = 'LeadRequestError';
  }
}

export interface AddedLead {
  leadId: string;
  /** False when the lead already had a journey: adding a lead twice never starts a second one. */
  started: boolean;
}

/** A lead from outside (a file, a form, a CRM); throws a ValidationError naming every bad field. */
export function parseLead(data: unknown, subject = 'lead'): Lead {
  return parseOrThrow(LeadSchema, data, subject);
}

/** Starts the journey of a validated lead, following this config snapshot. */
export async function addLead(client: Client, taskQueue: string, config: Config, lead: Lead): Promise<AddedLead> {
  const leadId = leadJourneyId(lead);
  const input: JourneyInput = { lead, config };
  try {
    await client.workflow.start('leadJourney', {
      workflowId: leadId,
      taskQueue,
      args: [input],
      // A closed journey (unsubscribed, nurtured to the end) is not restarted by a re-import.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return { leadId, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { leadId, started: false };
    throw err;
  }
}

/** Accepts a journey ID or the lead's e-mail address. */
export function toLeadId(idOrEmail: string): string {
  return idOrEmail.startsWith('lead-') ? idOrEmail : leadJourneyId({ email: idOrEmail });
}

export async function showLead(client: Client, idOrEmail: string): Promise<JourneyState & { status: string }> {
  const handle = client.workflow.getHandle(toLeadId(idOrEmail));
  try {
    const [description, state] = await Promise.all([handle.describe(), handle.query(journeyStateQuery)]);
    return { ...state, status: description.status.name };
  } catch (err) {
    throw notFound(err, idOrEmail);
  }
}

export async function sendLeadEvent(client: Client, idOrEmail: string, event: string): Promise<void> {
  if (!(LEAD_EVENTS as readonly string[]).includes(event)) {
    throw new LeadRequestError(`event: "${event}" is not a lead event; expected one of ${LEAD_EVENTS.join(', ')}`, 400);
  }
  const handle = client.workflow.getHandle(toLeadId(idOrEmail));
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') {
      throw new LeadRequestError(`journey ${handle.workflowId} has ended (${status.name.toLowerCase()}); the ${event} event was not delivered`, 409);
    }
    await handle.signal(event as LeadEvent);
  } catch (err) {
    throw notFound(err, idOrEmail);
  }
}

function notFound(err: unknown, idOrEmail: string): unknown {
  if (err instanceof WorkflowNotFoundError || (err as Error)?.name === 'WorkflowNotFoundError') {
    return new LeadRequestError(`no journey for "${idOrEmail}" (looked for workflow ID ${toLeadId(idOrEmail)})`, 404);
  }
  return err;
}
