// Who gets a lead: the first routing rule that matches chooses a pool, and the pool's strategy
// chooses a rep among the members who may take one now. Pure and deterministic (every fact and the
// clock come in as arguments), so the store can run it under its lock and workflows can bundle it.
import type { Lead } from '../../config/lead';
import type { Grade } from '../../config/qualification';
import type { PoolCandidate } from '../../config/pools';
import type { Routing, Strategy } from '../../config/routing';
import type { Tier } from '../../config/sending';
import { TEXT_FIT_FIELDS, WEEKDAYS } from '../../config/vocabulary';
import { isWorkingTime } from './businessHours';
import { localIso } from './sendWindow';

export interface RoutingFacts {
  lead: Lead;
  grade: Grade;
  tier?: Tier;
}

/**
 * The first rule whose `when` matches: every field it names has one of the listed values (text
 * compared trimmed and case-insensitive), employees within min..max inclusive, grade and tier among
 * those listed. A field the lead lacks never matches a rule that names it.
 */
export function chooseRule(routing: Routing, facts: RoutingFacts): { pool: string; rule: string } | undefined {
  for (const [i, rule] of routing.rules.entries()) {
    if (matches(rule.when, facts)) return { pool: rule.pool, rule: rule.name ?? `rules[${i}]` };
  }
  return undefined;
}

function matches(when: Routing['rules'][number]['when'], { lead, grade, tier }: RoutingFacts): boolean {
  const norm = (s: string) => s.trim().toLowerCase();
  // The schema builds the text fields with Object.fromEntries, so their type is lost on the way.
  const text = when as Partial<Record<(typeof TEXT_FIT_FIELDS)[number], string[]>>;
  for (const field of TEXT_FIT_FIELDS) {
    const wanted = text[field];
    if (!wanted) continue;
    const value = lead[field];
    if (value === undefined || !wanted.some((w) => norm(w) === norm(value))) return false;
  }
  if (when.employees) {
    const { min, max } = when.employees;
    if (min !== undefined && lead.employees < min) return false;
    if (max !== undefined && lead.employees > max) return false;
  }
  if (when.grade && !when.grade.includes(grade)) return false;
  if (when.tier && (tier === undefined || !when.tier.includes(tier))) return false;
  return true;
}

/** A pool member as the active config describes them, with the defaults already filled in. */
export type Candidate = PoolCandidate;

/** A candidate with what the store knows of them right now. */
export interface CandidateFacts extends Candidate {
  /** Open assignments across every pool: the cap counts them all. */
  openLeads: number;
  awayUntil?: Date;
}

/** Where a pool's rotation stands, kept per pool between assignments. */
export interface TurnState {
  last?: string;
  /** Smooth weighted round robin's current weights, by e-mail. */
  current?: Record<string, number>;
}

/** A member passed over, and why, in words a person reads. */
export interface Skip {
  rep: string;
  reason: string;
}

export interface RepChoice {
  rep?: string;
  skipped: Skip[];
  turn: TurnState;
}

export interface PickOptions {
  now: Date;
  respectWorkingHours: boolean;
  /** Reps who may not have the lead (the owner it is being taken from). */
  exclude?: string[];
}

/**
 * Why this rep may not take a lead now, or undefined when they may. Checked in this order, and only
 * the first reason is given: leaving outranks being away, which outranks being full or off shift.
 */
export function whyIneligible(rep: CandidateFacts, options: PickOptions): string | undefined {
  const now = options.now.getTime();
  // The day they left is read on their own calendar: a rep in Seoul has left before one in New York has.
  if (rep.left !== undefined && rep.left <= localIso(now, rep.timezone).slice(0, 10)) return `left the team on ${rep.left}`;
  const email = rep.email.toLowerCase();
  if (options.exclude?.some((e) => e.toLowerCase() === email)) return 'previous owner';
  if (rep.awayUntil !== undefined && rep.awayUntil.getTime() > now) return `away until ${instantText(rep.awayUntil)}`;
  if (rep.openLeads >= rep.cap) return `at cap: ${rep.openLeads} open leads`;
  if (options.respectWorkingHours && !isWorkingTime(now, rep.workingHours, rep.timezone)) {
    return `outside working hours (${rep.workingHours.hours} ${rep.timezone}, ${daysText(rep.workingHours.days)})`;
  }
  return undefined;
}

/**
 * The rep the pool's strategy gives the lead to, among the eligible candidates, with every member
 * passed over and the turn state to keep. No rep when nobody is eligible; the turn is then unchanged.
 */
export function pickRep(strategy: Strategy, candidates: CandidateFacts[], turn: TurnState, options: PickOptions): RepChoice {
  const skipped: Skip[] = [];
  const eligible: CandidateFacts[] = [];
  for (const candidate of candidates) {
    const reason = whyIneligible(candidate, options);
    if (reason === undefined) eligible.push(candidate);
    else skipped.push({ rep: candidate.email, reason });
  }
  if (eligible.length === 0) return { skipped, turn };
  const inTurn = rotation(candidates, turn.last).filter((c) => eligible.includes(c));

  if (strategy === 'round-robin') return { rep: inTurn[0]!.email, skipped, turn: { ...turn, last: inTurn[0]!.email } };

  if (strategy === 'least-loaded') {
    // The first of the fewest in rotation order, so reps with equal loads still take turns.
    const least = inTurn.reduce((best, c) => (c.openLeads < best.openLeads ? c : best));
    return { rep: least.email, skipped, turn: { ...turn, last: least.email } };
  }

  // nginx's smooth weighted round robin: each eligible member gains its weight, the highest current
  // wins and gives back the total. Members no longer in the pool are forgotten; those merely
  // ineligible keep their standing for when they are back.
  const current: Record<string, number> = {};
  for (const c of candidates) current[c.email] = turn.current?.[c.email] ?? 0;
  let total = 0;
  let best: CandidateFacts | undefined;
  for (const c of eligible) {
    current[c.email]! += c.weight;
    total += c.weight;
    if (best === undefined || current[c.email]! > current[best.email]!) best = c;
  }
  current[best!.email]! -= total;
  return { rep: best!.email, skipped, turn: { last: best!.email, current } };
}

/** The candidates in turn order: those after `last` first, wrapping round; config order when last is gone. */
function rotation<T extends { email: string }>(candidates: T[], last: string | undefined): T[] {
  const at = last === undefined ? -1 : candidates.findIndex((c) => c.email.toLowerCase() === last.toLowerCase());
  return [...candidates.slice(at + 1), ...candidates.slice(0, at + 1)];
}

/** "2026-12-01" for a midnight UTC, else the instant to the minute: "2026-12-01T14:30Z". */
function instantText(at: Date): string {
  const iso = at.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : `${iso.slice(0, 16)}Z`;
}

/** "mon-fri", "mon, wed, fri", "mon-wed, sat": runs of three or more days as a range. */
function daysText(days: readonly string[]): string {
  const order = WEEKDAYS.filter((d) => days.includes(d));
  const runs: string[][] = [];
  for (const day of order) {
    const run = runs[runs.length - 1];
    if (run && WEEKDAYS.indexOf(day) === WEEKDAYS.indexOf(run[run.length - 1] as (typeof WEEKDAYS)[number]) + 1) run.push(day);
    else runs.push([day]);
  }
  return runs.map((run) => (run.length >= 3 ? `${run[0]}-${run[run.length - 1]}` : run.join(', '))).join(', ');
}
