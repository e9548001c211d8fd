// Who is a good lead, decided from the config marketing ops keep in git: fit (weighted ICP
// criteria, a grade A-D), interest (behaviour points that decay, or BANT), and the matrix cell the
// two meet in. Pure and clock-free ("now" is an argument) so workflows can run it on replay.

import { durationMs } from '../../config/duration';
import type { Lead } from '../../config/lead';
import type { Bant, Behaviour, CellAction, FitCriterion, Grade, InterestLevel, Qualification } from '../../config/qualification';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface FitResult {
  grade: Grade;
  /** 0-100: the share of the total weight met, rounded to 1 decimal. */
  score: number;
  reasons: string[];
}

export interface BehaviourEvent {
  type: Behaviour;
  /** Epoch ms. */
  at: number;
}

export interface InterestResult {
  /** Decayed behaviour points, rounded to 1 decimal. */
  score: number;
  level: InterestLevel;
  reasons: string[];
  /** The BANT parts confirmed. */
  bant: string[];
}

export interface Verdict {
  fit: FitResult;
  interest: InterestResult;
  action: CellAction;
  /** e.g. "B x active". */
  cell: string;
}

const BANT_PARTS = ['budget', 'authority', 'need', 'timeline'] as const;
export type BantPart = (typeof BANT_PARTS)[number];

// Scores are compared as shown (1 decimal), so a marketer never sees "30.0" next to "not sales-ready".
const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;
const norm = (s: string) => s.trim().toLowerCase();

/** How well a lead matches the ICP: each criterion met adds its weight; the grade comes from the share met. */
export function fitGrade(lead: Lead, fit: Qualification['fit']): FitResult {
  let total = 0;
  let met = 0;
  const reasons: string[] = [];
  for (const criterion of fit.criteria) {
    const { ok, why } = check(lead, criterion);
    total += criterion.weight;
    if (ok) met += criterion.weight;
    reasons.push(`${why} (${ok ? `+${criterion.weight}` : `0 of ${criterion.weight}`})`);
  }
  const score = total > 0 ? round1((met / total) * 100) : 0;
  const { A, B, C } = fit.grades;
  const grade: Grade = score >= A ? 'A' : score >= B ? 'B' : score >= C ? 'C' : 'D';
  reasons.push(`${round2(met)} of ${round2(total)} weight met = ${score}%: grade ${grade} (A from ${A}%, B from ${B}%, C from ${C}%)`);
  return { grade, score, reasons };
}

function check(lead: Lead, criterion: FitCriterion): { ok: boolean; why: string } {
  if ('in' in criterion) {
    const raw = lead[criterion.field];
    const list = criterion.in.length === 1 ? `${criterion.in[0]}` : `one of ${criterion.in.join(', ')}`;
    if (raw === undefined || raw.trim() === '') return { ok: false, why: `${criterion.field} is missing, wanted ${list}` };
    const value = raw.trim();
    const ok = criterion.in.some((wanted) => norm(wanted) === norm(value));
    return { ok, why: `${criterion.field} "${value}" is ${ok ? '' : 'not '}${list}` };
  }
  const { field, min, max } = criterion;
  const range = min !== undefined && max !== undefined ? `within ${min}-${max}` : min !== undefined ? `at least ${min}` : max !== undefined ? `at most ${max}` : 'any number';
  const value = lead[field] as number | undefined;
  if (value === undefined || !Number.isFinite(value)) return { ok: false, why: `${field} is missing, wanted ${range}` };
  if (min !== undefined && value < min) return { ok: false, why: `${field} ${value} is below ${min}` };
  if (max !== undefined && value > max) return { ok: false, why: `${field} ${value} is above ${max}` };
  return { ok: true, why: `${field} ${value} is ${range}` };
}

/** The BANT parts an SDR or CRM confirmed: a budget of yes or an amount, a decision maker, a need, a timeline. */
export function bantConfirmed(bant: Bant | undefined): BantPart[] {
  if (!bant) return [];
  const confirmed: Record<BantPart, boolean> = {
    budget: bant.budget === true || (typeof bant.budget === 'number' && bant.budget > 0),
    authority: bant.authority === true,
    need: bant.need === true || (typeof bant.need === 'string' && bant.need.trim() !== ''),
    timeline: typeof bant.timeline === 'string' && bant.timeline.trim() !== '',
  };
  return BANT_PARTS.filter((part) => confirmed[part]);
}

/** An event's points at `now`: full until it happens (a future timestamp), halving every half-life after. */
function decayed(weight: number, age: number, halfLife: number): number {
  if (age <= 0) return weight;
  // A zero half-life is "only what happens now counts": the limit of ever faster decay.
  if (halfLife <= 0) return 0;
  return weight * 0.5 ** (age / halfLife);
}

function rawScore(events: BehaviourEvent[], cfg: Qualification['interest'], halfLife: number, now: number): number {
  let sum = 0;
  for (const event of events) {
    if (!Number.isFinite(event.at)) continue;
    sum += decayed(cfg.weights[event.type] ?? 0, now - event.at, halfLife);
  }
  return sum;
}

function levelOf(score: number, bantCount: number, cfg: Qualification['interest']): InterestLevel {
  if (score >= cfg.levels['sales-ready'] || bantCount >= cfg.bantSalesReady) return 'sales-ready';
  return score >= cfg.levels.active ? 'active' : 'passive';
}

/** "2d ago", "3h ago", "in 5m": the age of an event the way a rep would say it. */
function ago(age: number): string {
  const size = Math.abs(age);
  const text = size >= DAY ? `${Math.floor(size / DAY)}d` : size >= HOUR ? `${Math.floor(size / HOUR)}h` : size >= MINUTE ? `${Math.floor(size / MINUTE)}m` : '';
  if (text === '') return 'just now';
  return age < 0 ? `in ${text}` : `${text} ago`;
}

/** How interested a lead is now: decayed behaviour points, lifted to sales-ready by enough BANT. */
export function interest(events: BehaviourEvent[], bant: Bant | undefined, cfg: Qualification['interest'], now: number): InterestResult {
  const halfLife = durationMs(cfg.halfLife);
  const reasons: string[] = [];
  for (const event of events) {
    if (!Number.isFinite(event.at)) {
      reasons.push(`${event.type} at an unknown time: ignored`);
      continue;
    }
    const weight = cfg.weights[event.type];
    const when = ago(now - event.at);
    reasons.push(weight === undefined ? `${event.type} ${when}: no weight set -> 0` : `${event.type} ${when}: ${weight} -> ${round1(decayed(weight, now - event.at, halfLife))}`);
  }
  const score = round1(rawScore(events, cfg, halfLife, now));
  const confirmed = bantConfirmed(bant);
  const level = levelOf(score, confirmed.length, cfg);
  const byScore = levelOf(score, 0, cfg);
  reasons.push(`score ${score} (half-life ${cfg.halfLife}): ${byScore} (active from ${cfg.levels.active}, sales-ready from ${cfg.levels['sales-ready']})`);
  const parts = confirmed.length > 0 ? ` (${confirmed.join(', ')})` : '';
  if (confirmed.length >= cfg.bantSalesReady) {
    reasons.push(`BANT ${confirmed.length} of 4 confirmed${parts}: sales-ready`);
  } else if (bant) {
    reasons.push(`BANT ${confirmed.length} of 4 confirmed${parts}: sales-ready takes ${cfg.bantSalesReady}`);
  }
  return { score, level, reasons, bant: confirmed };
}

/** What the matrix says to do with a lead of this fit and interest. */
export function matrixCell(grade: Grade, level: InterestLevel, matrix: Qualification['matrix']): CellAction {
  return matrix[grade][level];
}

/** Fit, interest and the matrix cell they meet in: whether the lead goes to sales now, stays in nurture, or is let go. */
export function qualify(lead: Lead, events: BehaviourEvent[], bant: Bant | undefined, q: Qualification, now: number): Verdict {
  const fit = fitGrade(lead, q.fit);
  const shown = interest(events, bant, q.interest, now);
  return { fit, interest: shown, action: matrixCell(fit.grade, shown.level, q.matrix), cell: `${fit.grade} x ${shown.level}` };
}

/**
 * The first instant at or after `now` at which the interest level, with no new events, falls below
 * its current one as the score decays; undefined when passive, or when BANT holds the lead at
 * sales-ready (BANT does not decay). Lets a workflow sleep until its matrix cell may change.
 */
export function levelDropsAt(events: BehaviourEvent[], bant: Bant | undefined, cfg: Qualification['interest'], now: number): number | undefined {
  const halfLife = durationMs(cfg.halfLife);
  const bantCount = bantConfirmed(bant).length;
  const levelAt = (t: number) => levelOf(round1(rawScore(events, cfg, halfLife, t)), bantCount, cfg);
  const current = levelAt(now);
  if (current === 'passive' || bantCount >= cfg.bantSalesReady) return undefined;
  // Every event's points only shrink with time (full until it happens, decaying after), so the
  // level can only fall: double until it has fallen, then bisect to the millisecond.
  let low = now;
  let step = Math.max(halfLife, MINUTE);
  let high = now + step;
  while (levelAt(high) === current) {
    low = high;
    step *= 2;
    high = now + step;
  }
  while (high - low > 1) {
    const mid = low + Math.floor((high - low) / 2);
    if (levelAt(mid) === current) low = mid;
    else high = mid;
  }
  return high;
}
