import { durationMs } from '../../config/duration';
import type { Lead } from '../../config/lead';
import type { Grade } from '../../config/qualification';
import type { WorkingHours } from '../../config/routing';
import type { SlaPolicy } from '../../config/sla';
import { addWorkingTime } from './businessHours';

// When each rung of an SLA's escalation ladder falls due. The clock is either plain time or the
// owner's working hours, so a 5-minute SLA that starts at 17:58 on a Friday ends on Monday morning.

export interface LadderRung {
  kind: 'reminder' | 'breach' | 'reassign';
  at: number;
  /** For reminders: the fraction of the time allowed that has passed. */
  fraction?: number;
}

export interface OwnerCalendar {
  timezone: string;
  workingHours: WorkingHours;
}

/** The SLAs that cover this lead: every policy whose `when` matches its source and grade. */
export function policiesFor(policies: readonly SlaPolicy[], lead: Pick<Lead, 'source'>, grade: Grade | undefined): SlaPolicy[] {
  return policies.filter(
    (p) => (!p.when.source || p.when.source.includes(lead.source)) && (!p.when.grade || (grade !== undefined && p.when.grade.includes(grade))),
  );
}

/** The instant `ms` of the policy's clock has run since `start`. */
export function clockAfter(policy: Pick<SlaPolicy, 'clock'>, start: number, ms: number, owner: OwnerCalendar): number {
  return policy.clock === 'business-hours' ? addWorkingTime(start, ms, owner.workingHours, owner.timezone) : start + ms;
}

/** Reminders at their fractions, the breach at the deadline, and a reassignment at the second deadline, in time order. */
export function ladderFor(policy: SlaPolicy, start: number, owner: OwnerCalendar): { due: number; rungs: LadderRung[] } {
  const within = durationMs(policy.within);
  const due = clockAfter(policy, start, within, owner);
  const rungs: LadderRung[] = [
    ...[...new Set(policy.remindAt)].sort((a, b) => a - b).map((fraction) => ({ kind: 'reminder' as const, fraction, at: clockAfter(policy, start, within * fraction, owner) })),
    { kind: 'breach', at: due },
  ];
  if (policy.reassignAfter) {
    const at = clockAfter(policy, start, durationMs(policy.reassignAfter), owner);
    // A second deadline before the first would reassign a lead that has not breached: it waits for the breach.
    rungs.push({ kind: 'reassign', at: Math.max(at, due) });
  }
  return { due, rungs: rungs.sort((a, b) => a.at - b.at) };
}
