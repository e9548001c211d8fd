// E-mails to the team: a rep hears about a new lead, a manager about a breached SLA.
import type { Lead } from '../config/lead';
import type { Config, TeamMember } from '../config/schema';
import { formatDuration } from '../config/duration';
import { fullName, localTime, messageId, type Mailer } from './mail';

export interface NotifyRepInput {
  lead: Lead;
  leadId: string;
  rep: TeamMember;
  firstTouchDue?: string;
  sender: Config['sender'];
}

export interface EscalationInput {
  lead: Lead;
  leadId: string;
  rep: TeamMember;
  manager: TeamMember;
  due: string;
  /** How late the first touch is at the moment the escalation is sent. */
  lateMs: number;
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

export async function notifyRep(mailer: Mailer, { lead, leadId, rep, firstTouchDue, sender }: NotifyRepInput): Promise<void> {
  const due = firstTouchDue ? localTime(firstTouchDue, rep.timezone) : undefined;
  await mailer.sendMail({
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
      `When you have reached out: pipewright lead event ${leadId} touched`,
    ].join('\n'),
  });
}

export async function escalateSlaBreach(mailer: Mailer, input: EscalationInput): Promise<void> {
  const { lead, leadId, rep, manager, due, lateMs, sender } = input;
  await mailer.sendMail({
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
      '',
      leadSummary(lead),
      '',
      `Rep:       ${rep.name} <${rep.email}>`,
      `Journey:   ${leadId}`,
    ].join('\n'),
  });
}
