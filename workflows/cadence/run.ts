// Where one contact is in one cadence: everything the engine needs to carry on after a worker
// restart, a continue-as-new or a migration to a new definition of the cadence. Plain data.
import type { Cadence } from '../../config/cadence';
import type { Shift } from '../rules/sendWindow';

/** A move of a touch away from its due time, with the reason a marketer reads in `lead show`. */
export interface TouchShift extends Omit<Shift, 'reason'> {
  reason: Shift['reason'] | 'limit' | 'paused';
}

export interface CadenceRun {
  cadence: string;
  /** The config version the definition came from; a migration moves it forward. */
  configVersion?: number;
  /** Set by a migration: the definition this run follows instead of its journey's config. */
  definition?: Cadence;
  /** Index of the step to run next. */
  step: number;
  /** When the next touch is due, before windows, holidays and limits move it. */
  dueAt: string;
  startedAt: string;
  lastTouchAt?: string;
  /** The template of the last message, so rotation never sends the same one twice in a row. */
  lastTemplate?: string;
  /** Times each step has run, by step id: rotation goes through variants by it. */
  visits: Record<string, number>;
  status: 'running' | 'paused' | 'done';
  pausedUntil?: string;
  /** Why the run ended: "completed", an exit step's word, or the event that stopped it. */
  exit?: string;
  /** The touch the run is waiting to make, and every reason it moved. */
  pending?: { stepId: string; channel: string; at: string; local: string; shifted: TouchShift[] };
  touches: number;
  /** Holidays fetched for the contact's country, by local date, with their names. */
  calendar?: { country: string; years: number[]; names: Record<string, string> };
}

export function startRun(cadence: string, at: number, configVersion?: number): CadenceRun {
  const iso = new Date(at).toISOString();
  return { cadence, configVersion, step: 0, dueAt: iso, startedAt: iso, visits: {}, status: 'running', touches: 0 };
}
