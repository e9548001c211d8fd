// What the CLI prints for people: a journey, a list of journeys, a contact.
import { formatDuration } from '../config/duration';
import type { JourneyState } from '../workflows/messages';
import type { ContactRecord } from './contacts';
import type { ListedJourney } from './journeyList';
import { describeSuppression } from './leads';

export function describeJourney(s: JourneyState & { status: string }): string {
  const lines = [`${s.leadId}  [${s.status.toLowerCase()}]`, `  stage:   ${s.stage}${s.outcome ? ` (${s.outcome}, ${s.endedAt})` : ''}`];
  if (s.qualification) lines.push(`  ICP fit: ${s.qualification.fits ? 'yes' : `no: ${s.qualification.misses.join('; ')}`}`);
  if (s.owner) lines.push(`  owner:   ${s.owner.name} <${s.owner.email}> (${s.owner.role})`);
  if (s.notice && s.notice.status !== 'sent') lines.push(`  notice:  ${s.notice.status}${s.notice.detail ? `: ${s.notice.detail}` : ''}`);
  if (s.sla) lines.push(`  SLA:     first touch due ${when(s.sla.due)}: ${s.sla.status}${s.sla.escalatedTo ? `, escalated to ${s.sla.escalatedTo}` : ''}`);
  if (s.firstTouchAt) lines.push(`  touched: ${s.firstTouchAt}`);
  // Journeys of the first version have no `sends`.
  const sends = s.sends ?? [];
  lines.push(`  sent:    ${sends.length ? `${sends.filter((m) => m.status === 'sent').length} of ${sends.length} e-mail(s)` : 'nothing yet'}`);
  for (const m of sends) lines.push(`    ${m.at}  ${m.cadence} #${m.step}: ${m.subject} [${m.status}${m.detail ? `: ${m.detail}` : ''}]`);
  lines.push(`  next:    ${s.next ? `${s.next.what}, due ${when(s.next.dueAt)}` : 'nothing scheduled'}`);
  if (s.repliedAt) lines.push(`  replied: ${s.repliedAt}`);
  if (s.unsubscribedAt) lines.push(`  unsubscribed: ${s.unsubscribedAt}`);
  if (s.continuedAsNew) lines.push(`  runs:    ${s.continuedAsNew + 1} (continued as new to keep its history short)`);
  return lines.join('\n');
}

export function describeListed(j: ListedJourney): string {
  return [j.leadId, j.status.toLowerCase(), j.stage ?? '-', j.owner ?? '-', j.source ?? '-', `sla:${j.sla ?? '-'}`, j.startedAt].join('  ');
}

export function describeContact(c: ContactRecord): string {
  const lines = [c.email];
  if (c.contact) lines.push(`  name:    ${[c.contact.firstName, c.contact.lastName].filter(Boolean).join(' ') || '-'}${c.contact.company ? `, ${c.contact.company}` : ''} (first seen ${c.contact.createdAt.toISOString()})`);
  else lines.push('  not a known contact');
  lines.push(`  suppressed: ${c.suppressions.length ? '' : 'no'}`);
  for (const s of c.suppressions) lines.push(`    ${describeSuppression(s)}`);
  lines.push(`  messages: ${c.sends.length || 'none'}`);
  for (const m of c.sends) lines.push(`    ${(m.sentAt ?? m.updatedAt).toISOString()}  ${m.kind} to ${m.recipient}: ${m.status}${m.attempts > 1 ? ` after ${m.attempts} attempts` : ''}${m.detail && m.status !== 'sent' ? ` (${m.detail})` : ''}`);
  lines.push(`  events:  ${c.events.length || 'none'}`);
  for (const e of c.events) lines.push(`    ${e.at.toISOString()}  ${e.type}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}`);
  return lines.join('\n');
}

function when(iso: string): string {
  const ms = new Date(iso).getTime() - Date.now();
  return `${iso} (${ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`})`;
}
