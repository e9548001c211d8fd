// E-mails to the team: a rep hears about a new lead, a manager about a breached SLA.
import type { Lead } from '../config/lead';
import type { Config, TeamMember } from '../config/schema';
import { formatDuration } from '../config/duration';
import type { JourneyState } from '../workflows/messages';
import type { EmailMessage } from './deliver';
import { fullName, localTime, messageId } from './mail';

export interface NotifyRepInput {
  lead: Lead;
  leadId: string;
  rep: TeamMember;
  firstTouchDue?: string;
  sender: Config['sender'];
  /** When the journey asked, by its clock: a local activity's own scheduled time is the worker's wall clock. */
  at?: string;
}

export interface EscalationInput {
  lead: Lead;
  leadId: string;
  rep: TeamMember;
  manager: TeamMember;
  due: string;
  /** How late the first touch is at the moment the escalation is sent. */
  lateMs: number;
  /** What became of the rep's notice: a manager should know when the rep may never have heard. */
  notice?: JourneyState['notice'];
  sender: Config['sender'];
}

function leadSummary(lead: Lead): string {
  return [
    `Name:      ${fullName(lead)}${lead.title ? `, ${lead.title}` : ''}`,
    `Company:   ${lead.company} (${lead.industry}, ${lead.region}, ${lead.employees} employees)`,
    `E-mail:    ${lead.email}`,
    ...(lead.phone ? [`Phone:     ${lead.phone}`] : []),
    `Source:    ${lead.source}`,
  ].join('\n');
}

export function repNoticeMessage({ lead, leadId, rep, firstTouchDue, sender }: NotifyRepInput): EmailMessage {
  const due = firstTouchDue ? localTime(firstTouchDue, rep.timezone) : undefined;
  return {
    from: { name: sender.name, address: sender.email },
    to: { name: rep.name, address: rep.email },
    messageId: messageId(leadId, 'assigned', sender.email),
    subject: `New ${lead.source} lead: ${fullName(lead)}, ${lead.company}${due ? ` (first touch by ${due})` : ''}`,
    text: [
      `Hi ${rep.name},`,
      '',
      `${fullName(lead)} from ${lead.company} is yours.${due ? ` Please make the first touch by ${due}.` : ''}`,
      '',
      leadSummary(lead),
      '',
      `When you have reached out: pipewright lead event --id ${leadId} touched --by ${rep.email} --channel call`,
    ].join('\n'),
  };
}

export function escalationMessage(input: EscalationInput): EmailMessage {
  const { lead, leadId, rep, manager, due, lateMs, notice, sender } = input;
  return {
    from: { name: sender.name, address: sender.email },
    to: { name: manager.name, address: manager.email },
    cc: { name: rep.name, address: rep.email },
    messageId: messageId(leadId, 'first-touch-breach', sender.email),
    subject: `SLA breached: ${fullName(lead)} (${lead.company}) not touched by ${rep.name}`,
    text: [
      `Hi ${manager.name},`,
      '',
      `${rep.name} has not made the first touch on ${fullName(lead)} from ${lead.company}.`,
      `It was due by ${localTime(due, manager.timezone)} and is ${formatDuration(lateMs)} late as of this e-mail.`,
      ...noticeLine(notice, rep),
      '',
      leadSummary(lead),
      '',
      `Rep:       ${rep.name} <${rep.email}>`,
      `Journey:   ${leadId}`,
    ].join('\n'),
  };
}

function noticeLine(notice: EscalationInput['notice'], rep: TeamMember): string[] {
  if (!notice || notice.status === 'sent') return [];
  if (notice.status === 'sending') return [`The e-mail telling ${rep.name} about this lead has not been delivered yet: it is still being retried.`];
  return [`The e-mail telling ${rep.name} about this lead could not be delivered (${notice.status}${notice.detail ? `: ${notice.detail}` : ''}), so ${rep.name} may not know about it.`];
}
