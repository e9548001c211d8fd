import { z } from 'zod';
import { oneLine } from './text';
import { DurationSchema } from './durationSchema';
import { NUMBER_FIT_FIELDS, TEXT_FIT_FIELDS } from './vocabulary';

// How marketing ops decide who is a good lead: fit (weighted ICP criteria, a grade A-D), interest
// (a behaviour score that decays), BANT, and the matrix that crosses fit with interest.

export const GRADES = ['A', 'B', 'C', 'D'] as const;
export type Grade = (typeof GRADES)[number];

export const INTEREST_LEVELS = ['passive', 'active', 'sales-ready'] as const;
export type InterestLevel = (typeof INTEREST_LEVELS)[number];

/** What a cell of the matrix does with a lead: hand it to sales now, keep nurturing it, or let it go. */
export const CELL_ACTIONS = ['route', 'nurture', 'drop'] as const;
export type CellAction = (typeof CELL_ACTIONS)[number];


const FitCriterion = z.union(
  [
    z.strictObject({ field: z.enum(TEXT_FIT_FIELDS), in: z.array(z.string().min(1)).min(1), weight: z.number().positive() }),
    z.strictObject({
      field: z.enum(NUMBER_FIT_FIELDS),
      min: z.number().nonnegative().optional(),
      max: z.number().positive().optional(),
      weight: z.number().positive(),
    }).refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { path: ['max'], error: 'expected max to be at least min' }),
  ],
  { error: `expected { field, in: [...], weight } for ${TEXT_FIT_FIELDS.join(', ')}, or { field, min, max, weight } for ${NUMBER_FIT_FIELDS.join(', ')}` },
);
export type FitCriterion = z.infer<typeof FitCriterion>;

const Percent = z.number().min(0).max(100);

/** The behaviour events marketing ops weigh, in the users' words. Unsubscribe is never a weight: it takes the lead out. */
export const BEHAVIOURS = ['opened', 'visited', 'clicked', 'downloaded', 'replied', 'demo-request', 'contact-us', 'pricing-page'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

const Row = z.strictObject({ passive: z.enum(CELL_ACTIONS), active: z.enum(CELL_ACTIONS), 'sales-ready': z.enum(CELL_ACTIONS) });
export type MatrixRow = z.infer<typeof Row>;

/**
 * DOMAIN.md's six cells, fit crossed with interest: good fit (A, B) goes to sales once it shows
 * active interest, poor fit (C, D) only when sales-ready. An A lead is worth a rep's call at once;
 * a D lead with no interest at all is let go (most leads must not reach a rep).
 */
export const DEFAULT_MATRIX = {
  A: { passive: 'route', active: 'route', 'sales-ready': 'route' },
  B: { passive: 'nurture', active: 'route', 'sales-ready': 'route' },
  C: { passive: 'nurture', active: 'nurture', 'sales-ready': 'route' },
  D: { passive: 'drop', active: 'nurture', 'sales-ready': 'route' },
} as const satisfies Record<Grade, MatrixRow>;

export const DEFAULT_BEHAVIOUR_WEIGHTS: Record<Behaviour, number> = {
  opened: 1,
  visited: 2,
  clicked: 5,
  downloaded: 10,
  replied: 15,
  'demo-request': 40,
  'contact-us': 40,
  'pricing-page': 30,
};

export const QualificationSchema = z.strictObject({
  fit: z.strictObject({
    /** Each criterion met adds its weight; the grade comes from the share of the total weight met. */
    criteria: z.array(FitCriterion).min(1),
    /** The least share (percent) of the total weight for each grade; below C is D. */
    grades: z
      .strictObject({ A: Percent, B: Percent, C: Percent })
      .refine((g) => g.A >= g.B && g.B >= g.C, { error: 'expected A >= B >= C' })
      .default({ A: 90, B: 60, C: 30 }),
  }),
  interest: z
    .strictObject({
      /** Points per event; events not listed count nothing. */
      weights: z.partialRecord(z.enum(BEHAVIOURS), z.number().nonnegative()).default(DEFAULT_BEHAVIOUR_WEIGHTS),
      /** An event's points halve every this long, so last spring's click does not make a lead hot today. */
      halfLife: DurationSchema.default('30d'),
      /** The least score for each level above passive. */
      levels: z
        .strictObject({ active: z.number().positive(), 'sales-ready': z.number().positive() })
        .refine((l) => l['sales-ready'] > l.active, { error: 'expected sales-ready above active' })
        .default({ active: 5, 'sales-ready': 30 }),
      /** A lead with at least this many of budget, authority, need and timeline confirmed is sales-ready. */
      bantSalesReady: z.int().min(1).max(4).default(3),
    })
    .default({ weights: DEFAULT_BEHAVIOUR_WEIGHTS, halfLife: '30d', levels: { active: 5, 'sales-ready': 30 }, bantSalesReady: 3 }),
  matrix: z.strictObject({ A: Row, B: Row, C: Row, D: Row }).default(DEFAULT_MATRIX),
});

export type Qualification = z.infer<typeof QualificationSchema>;

/** BANT as an SDR records it on the first calls, or as a CRM sends it on the lead. */
export const BantSchema = z.strictObject({
  budget: z.union([z.boolean(), z.number().nonnegative()]).optional(),
  authority: z.boolean().optional(),
  need: z.union([z.boolean(), oneLine(500)]).optional(),
  timeline: oneLine(200).optional(),
});
export type Bant = z.infer<typeof BantSchema>;
