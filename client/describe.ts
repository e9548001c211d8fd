// What the CLI prints for people: a journey, a list of journeys, a contact.
import { formatDuration } from '../config/duration';
import type { JourneyStateV3 } from '../workflows/legacy/leadJourneyV3';
import type { JourneyState } from '../workflows/messages';
import type { ContactRecord } from './contacts';
import type { ListedJourney } from './journeyList';
import { describeSuppression } from './leads';

/** The state of any journey version: v4 says why at each step; earlier ones carry an ICP verdict and one SLA. */
type AnyJourneyState = JourneyState & { status: string } & Partial<Pick<JourneyStateV3, 'sla'>> & { qualification?: JourneyState['qualification'] | JourneyStateV3['qualification'] };

export function describeJourney(s: AnyJourneyState): string {
  const lines = [`${s.leadId}  [${s.status.toLowerCase()}]`, `  stage:   ${s.stage}${s.outcome ? ` (${s.outcome}, ${s.endedAt})` : ''}`];
  const q = s.qualification;
  if (q && 'fits' in q) lines.push(`  ICP fit: ${q.fits ? 'yes' : `no: ${q.misses.join('; ')}`}`);
  else if (q) {
    lines.push(`  qualified: grade ${q.fit.grade} (${q.fit.score}% fit) x ${q.interest.level} (score ${q.interest.score}) = ${q.cell}: ${q.action}`);
    for (const reason of [...q.fit.reasons, ...q.interest.reasons]) lines.push(`    ${reason}`);
  }
  if (s.queued) {
    lines.push(`  queued:  in pool ${s.queued.pool} since ${s.queued.since} (position ${s.queued.position})`);
    for (const skip of s.queued.skipped) lines.push(`    skipped ${skip.rep}: ${skip.reason}`);
  }
  if (s.owner) {
    lines.push(`  owner:   ${s.owner.name} <${s.owner.email}> (${s.owner.role})${s.owner.assignedAt ? ` since ${s.owner.assignedAt}` : ''}`);
    if (s.owner.pool) {
      lines.push(`    why:   rule ${s.owner.rule} -> pool ${s.owner.pool}, ${s.owner.preferred ?? s.owner.strategy}`);
      for (const skip of s.owner.skipped) lines.push(`    skipped ${skip.rep}: ${skip.reason}`);
    }
  }
  for (const p of s.previousOwners ?? []) lines.push(`  before:  ${p.email} until ${p.until} (${p.why})`);
  if (s.notice && s.notice.status !== 'sent') lines.push(`  notice:  ${s.notice.status}${s.notice.detail ? `: ${s.notice.detail}` : ''}`);
  if (s.sla) lines.push(`  SLA:     first touch due ${when(s.sla.due)}: ${s.sla.status}${s.sla.escalatedTo ? `, escalated to ${s.sla.escalatedTo}` : ''}`);
  for (const sla of s.slas ?? []) {
    const count = sla.needed !== undefined ? ` (${sla.touches ?? 0} of ${sla.needed} touches)` : '';
    lines.push(`  SLA:     ${sla.name} (${sla.kind}) for ${sla.owner}, due ${when(sla.due)}: ${sla.status}${count}`);
    for (const rung of sla.rungs) lines.push(`    ${rung.kind}${rung.fraction ? ` at ${Math.round(rung.fraction * 100)}%` : ''} ${rung.at}: ${rung.status}${rung.to ? ` to ${rung.to.join(', ')}` : ''}`);
  }
  if (s.deal) lines.push(`  deal:    ${s.deal.stage} (${s.deal.at})${s.deal.lostReason ? `, lost because: ${s.deal.lostReason}` : ''}${s.deal.notes ? `, notes: ${s.deal.notes}` : ''}`);
  if (s.bant) lines.push(`  BANT:    ${Object.entries(s.bant).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
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
