// One SLA clock on a lead's owner, climbed rung by rung: reminders to the rep at set fractions, the
// manager at breach (e-mail, and SMS for urgent grades), and reassignment at the second deadline.
// Each rung is its own message under its own key, and each clock resumes from its rungs' state
// after a continue-as-new.
import type { TeamMessage } from '../activities/teamMessages';
import type { Lead } from '../config/lead';
import type { Grade } from '../config/qualification';
import type { Config, TeamMember } from '../config/schema';
import type { SlaKind } from '../config/sla';
import type { Journal } from './journal';
import type { RepTouch, SlaClock } from './messages';
import { ladderFor, policiesFor, type OwnerCalendar } from './rules/slaLadder';
import { managerOf } from './rules/team';

export interface SlaHost {
  config: Config;
  lead: Lead;
  grade(): Grade | undefined;
  /** Every touch reported on the lead, whoever made it. */
  touches(): RepTouch[];
  /** How the owner's notice of the lead went: a breach tells the manager when it never arrived. */
  notice(): { status: string; detail?: string } | undefined;
  /** Sends a message once per key; answers how it went. */
  tell(what: string, message: TeamMessage, recipient: string): Promise<string>;
  journal: Journal;
  /** Waits until the deadline or until `done()`; true when done. */
  waitUntil(deadline: number, done: () => boolean): Promise<boolean>;
  /** The last rung: hand the lead to the next rep. */
  reassign(sla: string): void;
  publish(): void;
}

const iso = (ms: number) => new Date(ms).toISOString();
const same = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

export function calendarOf(config: Config, rep: TeamMember): OwnerCalendar {
  return { timezone: rep.timezone, workingHours: rep.workingHours ?? config.routing.workingHours };
}

/** New clocks of these kinds for the owner, from `start`, for every policy that covers the lead. */
/**
 * `reassign: false` for an owner who got the lead by reassignment or handoff: the ladder then ends
 * at the manager, so an untouched lead is not passed between reps for ever.
 */
export function clocksFor(host: SlaHost, rep: TeamMember, start: number, kinds: SlaKind[], options: { reassign: boolean }): SlaClock[] {
  return policiesFor(host.config.sla.policies, host.lead, host.grade())
    .filter((policy) => kinds.includes(policy.kind))
    .map((policy) => {
      const { due, rungs } = ladderFor(options.reassign ? policy : { ...policy, reassignAfter: undefined }, start, calendarOf(host.config, rep));
      return {
        name: policy.name,
        kind: policy.kind,
        owner: rep.email,
        startedAt: iso(start),
        due: iso(due),
        status: 'pending' as const,
        ...(policy.kind === 'persistence' ? { touches: 0, needed: policy.touches } : {}),
        rungs: rungs.map((rung) => ({ kind: rung.kind, at: iso(rung.at), status: 'pending' as const, ...(rung.fraction !== undefined && { fraction: rung.fraction }) })),
      };
    });
}

/**
 * Only the owner's touches count. A first touch counts whenever it came, even before the
 * assignment completed; persistence counts the owner's touches up to the deadline; a reply's
 * follow-up counts touches after the reply.
 */
function met(host: SlaHost, sla: SlaClock): boolean {
  const mine = host.touches().filter((t) => same(t.by, sla.owner));
  if (sla.kind === 'first-touch') return mine.length > 0;
  if (sla.kind === 'reply-follow-up') return mine.some((t) => Date.parse(t.at) >= Date.parse(sla.startedAt));
  sla.touches = mine.filter((t) => Date.parse(t.at) <= Date.parse(sla.due)).length;
  return sla.touches >= (sla.needed ?? 0);
}

export async function watchSla(host: SlaHost, sla: SlaClock, rep: TeamMember): Promise<void> {
  const { config, journal } = host;
  const manager = managerOf(config, rep);
  const urgent = host.grade() !== undefined && config.sla.urgentGrades.includes(host.grade()!);
  const keyOf = (rung: number, who: string) => `sla/${sla.name}/${sla.owner}/${sla.startedAt}/${rung}/${who}`;
  for (const [i, rung] of sla.rungs.entries()) {
    if (rung.status !== 'pending') continue;
    if (await host.waitUntil(Date.parse(rung.at), () => met(host, sla))) {
      if (sla.status === 'pending') {
        sla.status = 'met';
        journal.add('sla-met', { sla: sla.name, kind: sla.kind, rep: rep.email });
        host.publish();
      }
      for (const rest of sla.rungs.slice(i)) if (rest.status === 'pending') rest.status = 'not-needed';
      return;
    }
    // Stopped from outside (reassigned, handed off): the rung is neither sent nor needed.
    if (sla.status === 'stopped') return;
    if (rung.kind === 'reminder') {
      const message: TeamMessage = { kind: 'sla-reminder', sla: sla.name, slaKind: sla.kind, due: sla.due, fraction: rung.fraction!, rep, touches: sla.touches, needed: sla.needed };
      rung.to = [rep.email];
      rung.status = asRungStatus(await host.tell(keyOf(i, rep.email), message, rep.email));
      journal.add('sla-reminded', { sla: sla.name, rep: rep.email, fraction: rung.fraction });
    } else if (rung.kind === 'breach') {
      sla.status = 'breached';
      journal.add('sla-breached', { sla: sla.name, kind: sla.kind, rep: rep.email, due: sla.due, manager: manager.email, touches: sla.touches, needed: sla.needed });
      host.publish();
      const breach = { kind: 'escalation' as const, sla: sla.name, slaKind: sla.kind, due: sla.due, rep, manager, touches: sla.touches, needed: sla.needed, notice: host.notice() };
      const results = [await host.tell(keyOf(i, manager.email), { ...breach, channel: 'email' }, manager.email)];
      rung.to = [manager.email];
      // Urgent grades reach the manager's phone too, under a key of its own.
      if (urgent && manager.phone) {
        results.push(await host.tell(keyOf(i, manager.phone), { ...breach, channel: 'sms' }, manager.phone));
        rung.to.push(manager.phone);
      }
      rung.status = asRungStatus(results.includes('sent') ? 'sent' : results[0]!);
      journal.add('escalated', { sla: sla.name, to: manager.email, rep: rep.email, sms: urgent && Boolean(manager.phone) });
    } else {
      rung.status = 'sent';
      host.reassign(sla.name);
      return;
    }
  }
}

function asRungStatus(status: string): 'sent' | 'failed' | 'skipped' {
  return status === 'sent' ? 'sent' : status === 'skipped' ? 'skipped' : 'failed';
}
