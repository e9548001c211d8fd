// Assignment as one atomic step in the store: the active config's rules choose a pool, the store
// chooses the rep (or queues the lead) under one lock, and a lead that frees a place wakes the next
// waiting lead. Nothing of it lives in a workflow, so no single workflow is hot under a burst.
import type { Client } from '@temporalio/client';
import type { Lead } from '../config/lead';
import { candidateOf, poolCandidates, poolManager, poolsOf, teamMember } from '../config/pools';
import type { Grade } from '../config/qualification';
import type { Strategy } from '../config/routing';
import type { Config, TeamMember } from '../config/schema';
import type { Store } from '../store';
import { repAssignedSignal } from '../workflows/messages';
import { chooseRule, type Skip } from '../workflows/rules/routing';
import type { ActiveConfigSource } from './activeConfig';

export type RoutingConfig = Pick<Config, 'routing' | 'team'>;

export interface AssignInput {
  leadId: string;
  lead: Lead;
  grade: Grade;
  /** route: the rules choose the pool; meeting: field sales' pool (routing.meetingPool). */
  purpose: 'route' | 'meeting';
  /** The owner the lead leaves: an SLA's second deadline, or the SDR who booked the meeting. */
  reassignFrom?: string;
  /** The journey's clock: working hours are weighed at this instant. */
  at: string;
  /** The journey's copy, used until a config was ever applied to the store. */
  snapshot: RoutingConfig;
}

export type AssignAnswer =
  | {
      status: 'assigned';
      rep: TeamMember;
      created: boolean;
      pool: string;
      rule: string;
      strategy: Strategy;
      preferred?: string;
      skipped: Skip[];
      assignedAt: string;
    }
  | { status: 'queued'; pool: string; position: number; skipped: Skip[]; newlyQueued: boolean; manager: TeamMember }
  /** Reassignment found nobody else free: the lead stays with its owner. */
  | { status: 'not-reassigned'; skipped: Skip[] }
  | { status: 'no-pool'; detail: string };

export interface RoutingDeps {
  store: Store;
  client: Client;
  configs: ActiveConfigSource;
}

/**
 * The active config decides, not the journey's copy: a rep who left or was taken out of a pool is
 * never assigned, even a lead that arrived before the change.
 */
async function routingConfig(configs: ActiveConfigSource, snapshot: RoutingConfig): Promise<RoutingConfig> {
  const active = await configs.get();
  return active?.config.routing ? active.config : snapshot;
}

export async function assignLead({ store, configs }: RoutingDeps, input: AssignInput): Promise<AssignAnswer> {
  const config = await routingConfig(configs, input.snapshot);
  const { routing } = config;
  const choice =
    input.purpose === 'meeting'
      ? routing.meetingPool && { pool: routing.meetingPool, rule: 'routing.meetingPool' }
      : chooseRule(routing, { lead: input.lead, grade: input.grade });
  if (!choice) return { status: 'no-pool', detail: input.purpose === 'meeting' ? 'routing.meetingPool is not set' : 'no routing rule matched' };
  const pool = routing.pools[choice.pool];
  if (!pool) return { status: 'no-pool', detail: `no pool named "${choice.pool}"` };
  const result = await store.assignLead({
    leadId: input.leadId,
    pool: choice.pool,
    rule: choice.rule,
    strategy: pool.strategy,
    candidates: poolCandidates(config, choice.pool),
    now: new Date(input.at),
    respectWorkingHours: routing.respectWorkingHours,
    preferred: input.purpose === 'route' ? await accountOwner(store, config, input.lead) : undefined,
    reassignFrom: input.reassignFrom,
  });
  if (result.status === 'queued') {
    return { status: 'queued', pool: result.pool, position: result.position, skipped: result.skipped, newlyQueued: result.newlyQueued, manager: poolManager(config, result.pool) };
  }
  const { assignment } = result;
  if (result.notReassigned) return { status: 'not-reassigned', skipped: result.notReassigned };
  // A rep is on the team the store's choice came from; the journey's copy serves the name if not.
  const rep = teamMember(config, assignment.rep) ?? teamMember(input.snapshot, assignment.rep);
  if (!rep) throw new Error(`the store assigned ${assignment.rep}, who is not on the team`);
  return {
    status: 'assigned',
    rep,
    created: result.created,
    pool: assignment.pool,
    rule: assignment.rule,
    strategy: assignment.strategy,
    preferred: assignment.why.preferred,
    skipped: assignment.why.skipped,
    assignedAt: assignment.assignedAt.toISOString(),
  };
}

/** Account owner first: the owner of the account whose domain the lead's e-mail is at, if a rep. */
async function accountOwner(store: Store, config: RoutingConfig, lead: Lead) {
  if (!config.routing.accountOwnerFirst) return undefined;
  const domain = lead.email.split('@')[1]!.toLowerCase();
  const owner = await store.accountOwner(domain);
  const member = owner ? teamMember(config, owner) : undefined;
  if (!member || member.role === 'manager') return undefined;
  return { rep: candidateOf(config, member), why: `account owner of ${domain}` };
}

export interface ReleaseInput {
  leadId: string;
  reason: string;
  at: string;
  snapshot: RoutingConfig;
}

/** Frees the rep's place, and hands it at once to the leads waiting longest in the rep's pools. */
export async function releaseLead({ store, client, configs }: RoutingDeps, input: ReleaseInput): Promise<{ released: boolean; assigned: string[] }> {
  const released = await store.releaseLead(input.leadId, input.reason);
  if (!released) return { released: false, assigned: [] };
  const config = await routingConfig(configs, input.snapshot);
  const assigned = await drainPools(store, client, config, poolsOf(config, released.rep), new Date(input.at));
  return { released: true, assigned };
}

/**
 * Assigns waiting leads of these pools, oldest first, while someone can take them, and tells each
 * lead's journey (which also asks again on its own every routing.queueRecheck, should a signal be lost).
 */
export async function drainPools(store: Store, client: Client, config: RoutingConfig, pools: string[], now: Date): Promise<string[]> {
  const assigned: string[] = [];
  for (const pool of pools) {
    const definition = config.routing.pools[pool];
    if (!definition) continue;
    const made = await store.drainQueue({ pool, strategy: definition.strategy, candidates: poolCandidates(config, pool), now, respectWorkingHours: config.routing.respectWorkingHours });
    for (const assignment of made) {
      assigned.push(assignment.leadId);
      await client.workflow
        .getHandle(assignment.leadId)
        .signal(repAssignedSignal, { rep: assignment.rep })
        .catch(() => undefined);
    }
  }
  return assigned;
}
