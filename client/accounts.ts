// The operator's side of an account's program: start one for an account list entry, ask where it
// is, tell it what one of its contacts did.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { AccountSchema, accountProgramId, type Account } from '../config/account';
import type { Config } from '../config/schema';
import { parseOrThrow } from '../config/validation';
import type { Store } from '../store';
import { CONTACT_EVENTS, contactEventSignal, programStateQuery, type ContactEvent, type ProgramInput, type ProgramState } from '../workflows/messages';
import { LeadRequestError } from './leads';

export function parseAccount(data: unknown, subject = 'account'): Account {
  return parseOrThrow(AccountSchema, data, subject);
}

export interface AddedAccount {
  programId: string;
  started: boolean;
  /** Contacts that must not be contacted on any channel: the program skips their messages. */
  suppressed: string[];
}

/** Records the contacts and starts the account's program on this config; adding it twice starts nothing new. */
export async function addAccount(client: Client, store: Store, taskQueue: string, config: Config, account: Account, configVersion?: number): Promise<AddedAccount> {
  if (!config.tiers) throw new LeadRequestError('the active config has no tiers section: account programs need tiers.programs (see config/examples/default.yaml)', 400);
  const programId = accountProgramId(account);
  const suppressed: string[] = [];
  // Known to routing: an inbound lead from this domain goes to the account's owner first.
  await store.upsertAccount({ domain: account.domain, name: account.name, owner: account.owner });
  for (const contact of account.contacts) {
    await store.upsertContact({ ...contact, company: account.name });
    if (await store.suppressionFor(contact.email, 'email')) suppressed.push(contact.email);
  }
  const input: ProgramInput = { version: 1, account, config, ...(configVersion !== undefined && { configVersion }) };
  try {
    await client.workflow.start('accountProgram', { workflowId: programId, taskQueue, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    return { programId, started: true, suppressed };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { programId, started: false, suppressed };
    throw err;
  }
}

/** Accepts a program ID or the account's domain. */
export function toProgramId(idOrDomain: string): string {
  return idOrDomain.startsWith('account-') ? idOrDomain : accountProgramId({ domain: idOrDomain });
}

export async function showAccount(client: Client, idOrDomain: string): Promise<ProgramState & { status: string }> {
  const handle = client.workflow.getHandle(toProgramId(idOrDomain));
  try {
    const [description, state] = await Promise.all([handle.describe(), handle.query(programStateQuery)]);
    return { ...state, status: description.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new LeadRequestError(`no program for "${idOrDomain}" (looked for workflow ID ${handle.workflowId})`, 404);
    throw err;
  }
}

/** An unsubscribe is written to the store before the program hears of it, so it holds even if the program has ended. */
export async function sendAccountEvent(client: Client, store: Store, idOrDomain: string, event: Omit<ContactEvent, 'type'> & { type: string }, source: string): Promise<{ delivered: boolean }> {
  if (!(CONTACT_EVENTS as string[]).includes(event.type)) {
    throw new LeadRequestError(`event: "${event.type}" is not a contact event; expected one of ${CONTACT_EVENTS.join(', ')}`, 400);
  }
  if (event.type === 'unsubscribed') await store.suppress({ email: event.contact, channel: 'all', reason: 'unsubscribed', source });
  const handle = client.workflow.getHandle(toProgramId(idOrDomain));
  try {
    const { status } = await handle.describe();
    if (status.name !== 'RUNNING') {
      if (event.type === 'unsubscribed') return { delivered: false };
      throw new LeadRequestError(`program ${handle.workflowId} has ended (${status.name.toLowerCase()}); the ${event.type} event was not delivered`, 409);
    }
    await handle.signal(contactEventSignal, event as ContactEvent);
    return { delivered: true };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      if (event.type === 'unsubscribed') return { delivered: false };
      throw new LeadRequestError(`no program for "${idOrDomain}" (looked for workflow ID ${handle.workflowId})`, 404);
    }
    throw err;
  }
}

export function describeAccount(s: ProgramState & { status: string }): string {
  const lines = [
    `${s.programId}  [${s.status.toLowerCase()}]  ${s.name} (${s.domain})`,
    `  tier:    ${s.tier} (${s.tierReason})`,
    `  owner:   ${s.owner ? `${s.owner.name} <${s.owner.email}>` : 'being assigned'}`,
    `  stage:   ${s.stage}${s.outcome ? ` (${s.outcome})` : ''}`,
  ];
  if (s.sandbox) lines.push('  SANDBOX: sending.sandbox is on: windows, weekends and holidays are ignored');
  if (s.handover) lines.push(`  handed over: ${s.handover.event} from ${s.handover.contact} at ${s.handover.at} (BDR notice ${s.handover.notice ?? 'pending'})`);
  for (const c of s.contacts) {
    const run = c.run;
    lines.push(`  ${c.name} <${c.email}>: ${run.cadence} ${run.status}${run.exit ? ` (${run.exit})` : ''}, ${run.touches} touch(es), ${c.tasks.filter((t) => t.status === 'open').length} open task(s)`);
    if (run.pending) lines.push(`    next: ${run.pending.channel} ${run.pending.stepId} at ${run.pending.at} (${run.pending.local} local)${run.pending.shifted.length ? `; moved: ${run.pending.shifted.map((x) => x.detail).join('; ')}` : ''}`);
  }
  return lines.join('\n');
}
