// Messages to the team about one lead, beyond the first notice: SLA reminders, a breach for the
// manager (e-mail, or SMS for urgent grades), a reassignment, a full pool, a hot lead, a handoff to
// field sales. Internal: they never wait for a contact's window, and each goes out once per key.
import type { Lead } from '../config/lead';
import type { Bant, Grade } from '../config/qualification';
import type { Config, TeamMember } from '../config/schema';
import type { SlaKind } from '../config/sla';
import { formatDuration } from '../config/duration';
import type { SendKind } from '../store/types';
import { deliver, sendClaimed, type DeliveryDeps, type DeliveryResult, type EmailMessage } from './deliver';
import { fullName, localTime, messageId } from './mail';
import { smsTransport, type SmsSender } from './sms';

type Skip = { rep: string; reason: string };
type SlaFacts = { sla: string; slaKind: SlaKind; due: string; touches?: number; needed?: number };

export type TeamMessage =
  | ({ kind: 'sla-reminder'; fraction: number; rep: TeamMember } & SlaFacts)
  | ({ kind: 'escalation'; channel: 'email' | 'sms'; rep: TeamMember; manager: TeamMember; notice?: { status: string; detail?: string } } & SlaFacts)
  | { kind: 'reassignment'; sla: string; from: TeamMember; to: TeamMember; manager: TeamMember; recipient: TeamMember }
  | { kind: 'queued'; pool: string; position: number; skipped: Skip[]; manager: TeamMember }
  | { kind: 'hot-lead'; rep: TeamMember; event: string }
  | { kind: 'handoff'; from: TeamMember; to: TeamMember; notes?: string; bant?: Bant; grade?: Grade };

export type TeamMessageInput = TeamMessage & {
  key: string;
  leadId: string;
  lead: Lead;
  sender: Config['sender'];
  smsFrom?: string;
  /** The journey's clock, for "how late" in a breach. */
  at?: string;
};

export async function deliverTeamMessage(deps: DeliveryDeps & { sms?: SmsSender }, input: TeamMessageInput): Promise<DeliveryResult> {
  const kind: SendKind = input.kind;
  if (input.kind === 'escalation' && input.channel === 'sms') {
    const to = input.manager.phone!;
    const claim = await deps.store.claimSend({ key: input.key, journeyId: input.leadId, kind, channel: 'sms', recipient: to });
    // The manager's own suppressions apply to their phone: the contact for the check is their e-mail.
    return sendClaimed(deps.store, claim, { contact: input.manager.email, transport: smsTransport(deps.sms, { to, from: input.smsFrom, body: breachSms(input), key: input.key }) });
  }
  return deliver(deps, { key: input.key, journeyId: input.leadId, kind, message: teamEmail(input) });
}

function recipientOf(m: TeamMessage): TeamMember {
  switch (m.kind) {
    case 'sla-reminder':
    case 'hot-lead':
      return m.rep;
    case 'escalation':
    case 'queued':
      return m.manager;
    case 'reassignment':
      return m.recipient;
    case 'handoff':
      return m.to;
  }
}

function slaWords(m: SlaFacts): string {
  if (m.slaKind === 'first-touch') return 'the first touch';
  if (m.slaKind === 'reply-follow-up') return 'a follow-up to the reply';
  return `${m.needed} touches (${m.touches ?? 0} so far)`;
}

function leadLine(lead: Lead): string {
  return `${fullName(lead)}${lead.title ? `, ${lead.title}` : ''} (${lead.company}, ${lead.email})`;
}

export function teamEmail(input: TeamMessageInput): EmailMessage {
  const to = recipientOf(input);
  const { lead, leadId, sender } = input;
  const [subject, ...lines] = body(input, to);
  return {
    from: { name: sender.name, address: sender.email },
    to: { name: to.name, address: to.email },
    ...(input.kind === 'escalation' ? { cc: { name: input.rep.name, address: input.rep.email } } : {}),
    messageId: messageId(leadId, input.key.split('/').slice(2).join('-'), sender.email),
    subject: subject!,
    text: [`Hi ${to.name.split(' ')[0]},`, '', ...lines, '', `Lead:      ${leadLine(lead)}`, `Journey:   ${leadId}`, `Details:   pipewright lead show --id ${leadId}`].join('\n'),
  };
}

/** The subject, then the lines that say what happened and what to do. */
function body(m: TeamMessageInput, to: TeamMember): string[] {
  const name = fullName(m.lead);
  switch (m.kind) {
    case 'sla-reminder':
      return [
        `Reminder: ${slaWords(m)} on ${name} is due by ${localTime(m.due, to.timezone)}`,
        `${Math.round(m.fraction * 100)}% of the time for ${slaWords(m)} on ${name} (${m.sla}) has passed.`,
        `It is due by ${localTime(m.due, to.timezone)}. When you have reached out: pipewright lead event --id ${m.leadId} touched --by ${m.rep.email} --channel call`,
      ];
    case 'escalation': {
      const late = m.at ? ` and is ${formatDuration(Date.parse(m.at) - Date.parse(m.due))} late as of this e-mail` : '';
      return [
        `SLA breached: ${name} (${m.lead.company}) not followed up by ${m.rep.name}`,
        `${m.rep.name} has not made ${slaWords(m)} on ${name} (${m.sla}).`,
        `It was due by ${localTime(m.due, to.timezone)}${late}.`,
        ...noticeLine(m.notice, m.rep),
        `Rep:       ${m.rep.name} <${m.rep.email}>`,
      ];
    }
    case 'reassignment':
      return [
        `Reassigned: ${name} (${m.lead.company}) from ${m.from.name} to ${m.to.name}`,
        `${m.sla} passed its second deadline, so ${name} now belongs to ${m.to.name} (was ${m.from.name}).`,
        ...(to.email === m.to.email ? [`Please reach out now: pipewright lead event --id ${m.leadId} touched --by ${m.to.email} --channel call`] : []),
        ...(to.email === m.from.email ? ['You no longer own this lead; no need to act on it.'] : []),
      ];
    case 'queued':
      return [
        `No rep free in ${m.pool}: ${name} (${m.lead.company}) is waiting`,
        `${name} is waiting in pool ${m.pool} (position ${m.position}): nobody there can take a lead now.`,
        ...m.skipped.map((s) => `  ${s.rep}: ${s.reason}`),
        `The lead goes to the first rep who frees up. To make room: raise a cap, bring a rep back (pipewright rep back EMAIL), or add reps to the pool.`,
      ];
    case 'hot-lead':
      return [
        `Hot lead: ${name} (${m.lead.company}) just clicked`,
        `${name} showed interest just now (${m.event}). Now is a good moment to reach out.`,
      ];
    case 'handoff': {
      const bant = m.bant ? Object.entries(m.bant).map(([k, v]) => `${k}: ${String(v)}`).join(', ') : undefined;
      return [
        `Meeting booked: ${name} (${m.lead.company}) is yours, from ${m.from.name}`,
        `${m.from.name} booked a meeting with ${name} and hands the lead to you.`,
        ...(m.grade ? [`Fit grade: ${m.grade}`] : []),
        ...(bant ? [`BANT:      ${bant}`] : []),
        `Notes from ${m.from.name}:`,
        m.notes?.trim() || '(none)',
        `If they do not show: pipewright lead event --id ${m.leadId} no-show`,
      ];
    }
  }
}

/** A manager should know when the rep may never have heard of the lead. */
function noticeLine(notice: { status: string; detail?: string } | undefined, rep: TeamMember): string[] {
  if (!notice || notice.status === 'sent') return [];
  if (notice.status === 'sending') return [`The e-mail telling ${rep.name} about this lead has not been delivered yet: it is still being retried.`];
  return [`The e-mail telling ${rep.name} about this lead could not be delivered (${notice.status}${notice.detail ? `: ${notice.detail}` : ''}), so ${rep.name} may not know about it.`];
}

function breachSms(m: Extract<TeamMessageInput, { kind: 'escalation' }>): string {
  return `Pipewright: SLA ${m.sla} breached. ${m.rep.name} has not made ${slaWords(m)} on ${fullName(m.lead)} (${m.lead.company}), due ${localTime(m.due, m.manager.timezone)}.`;
}
