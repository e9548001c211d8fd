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
  if (s.sandbox) lines.push('  SANDBOX: sending.sandbox is on: windows, weekends and holidays are ignored for this journey');
  const run = s.cadence;
  if (run) lines.push(`  cadence: ${run.cadence}${run.configVersion ? ` (config version ${run.configVersion})` : ''}: ${run.status}${run.exit ? ` (${run.exit})` : ''}, ${run.touches} touch(es)${run.pausedUntil ? `, paused until ${run.pausedUntil}` : ''}`);
  // Journeys of the first version have no `sends`; the second's name steps by number.
  const sends = (s.sends ?? []) as (Partial<JourneyState['sends'][number]> & { step?: number; at: string; status: string })[];
  lines.push(`  sent:    ${sends.length ? `${sends.filter((m) => m.status === 'sent').length} of ${sends.length} message(s)` : 'nothing yet'}`);
  for (const m of sends) {
    const what = m.stepId ? `${m.cadence}/${m.stepId} ${m.channel} ${m.template}` : `${m.cadence} #${m.step}`;
    lines.push(`    ${m.at}  ${what}: ${m.subject ?? ''} [${m.status}${m.detail ? `: ${m.detail}` : ''}]`);
  }
  for (const t of s.tasks ?? []) lines.push(`  task:    ${t.channel} ${t.contact} for ${t.owner} (${t.cadence}/${t.stepId}, ${t.createdAt}): ${t.status}${t.outcome ? `, ${t.outcome}` : ''}`);
  lines.push(`  next:    ${s.next ? `${s.next.what}, due ${when(s.next.dueAt)}${s.next.local ? `, ${s.next.local} local` : ''}` : 'nothing scheduled'}`);
  for (const shift of s.next?.shifted ?? []) lines.push(`    moved (${shift.reason}): ${shift.detail}`);
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
