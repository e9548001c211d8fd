import type { CadenceStep } from './cadence';

// The config's fixed words, and the small helpers over them, with no zod. Workflow code imports
// these: every module in the workflow bundle is evaluated again for each new journey the worker
// runs, and building zod's schemas there cost more CPU than the journey itself (README: speed).

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** Lead fields a fit criterion or a routing rule may test: text fields by list, numbers by range. */
export const TEXT_FIT_FIELDS = ['industry', 'region', 'country', 'source', 'title', 'company'] as const;
export const NUMBER_FIT_FIELDS = ['employees'] as const;

export const STEP_KINDS = ['email', 'sms', 'task', 'wait', 'branch', 'exit'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** A wait step's "until the next business day", beside durations. */
export const NEXT_BUSINESS_DAY = 'next-business-day';

export function stepKind(step: CadenceStep): StepKind {
  return STEP_KINDS.find((kind) => step[kind] !== undefined)!;
}

/** The template names a step may use, in rotation order. */
export function variantsOf(ref: string | string[]): string[] {
  return typeof ref === 'string' ? [ref] : ref;
}

/**
 * The one journey per lead: adding the same lead twice (in any case) finds the same workflow. The ID
 * is a prefix and the normalised address, so it round-trips (addressOfJourney) and two addresses
 * never share one. Journeys already running carry such IDs, so the encoding must not change.
 */
export function leadJourneyId(lead: { email: string }): string {
  return `${LEAD_JOURNEY_PREFIX}${lead.email.trim().toLowerCase()}`;
}

const LEAD_JOURNEY_PREFIX = 'lead-';

/** The address a lead journey's ID was made from; undefined when the ID is not a lead journey's. */
export function addressOfJourney(journeyId: string): string | undefined {
  if (!journeyId.startsWith(LEAD_JOURNEY_PREFIX)) return undefined;
  const address = journeyId.slice(LEAD_JOURNEY_PREFIX.length);
  return address.includes('@') && leadJourneyId({ email: address }) === journeyId ? address : undefined;
}
