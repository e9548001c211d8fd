import { z } from 'zod';
import { DurationSchema } from './durationSchema';
import { GRADES } from './qualification';
import { TIERS } from './sending';
import { TEXT_FIT_FIELDS, WEEKDAYS } from './vocabulary';

// Who gets a lead: ordered rules on lead and account fields choose a pool; the pool's strategy
// chooses a rep among those who are in, not away, inside working hours and under their cap.

export const STRATEGIES = ['round-robin', 'weighted', 'least-loaded'] as const;
export type Strategy = (typeof STRATEGIES)[number];

const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

export const WorkingHoursSchema = z.strictObject({
  days: z.array(z.enum(WEEKDAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
  /** Local time in the rep's own time zone, e.g. "09:00-18:00". */
  hours: z
    .string()
    .regex(HOURS, { error: 'expected local working hours such as "09:00-18:00"' })
    .refine((w) => w.slice(0, 5) < w.slice(6), { error: 'expected the hours to end after they start' })
    .default('09:00-18:00'),
});
export type WorkingHours = z.infer<typeof WorkingHoursSchema>;

const PoolMember = z.union([
  z.email({ error: 'expected a team member\'s e-mail, or { email, weight }' }),
  z.strictObject({ email: z.email(), weight: z.int().positive().default(1) }),
]);

export const PoolSchema = z.strictObject({
  strategy: z.enum(STRATEGIES).default('round-robin'),
  members: z.array(PoolMember).min(1),
  /** Who hears when the pool is full or everyone is away; else each member's manager. */
  manager: z.email().optional(),
});
export type Pool = z.infer<typeof PoolSchema>;

/** A rule matches when every field it names has one of the listed values (case and spaces ignored). */
const When = z
  .strictObject({
    ...Object.fromEntries(TEXT_FIT_FIELDS.map((field) => [field, z.array(z.string().min(1)).min(1).optional()])),
    grade: z.array(z.enum(GRADES)).min(1).optional(),
    tier: z.array(z.enum(TIERS)).min(1).optional(),
    employees: z.strictObject({ min: z.number().nonnegative().optional(), max: z.number().positive().optional() }).optional(),
  })
  .partial();

export const RoutingRuleSchema = z.strictObject({
  /** Shown in `lead show` as why the lead went where it went; defaults to "rules[i]". */
  name: z.string().min(1).optional(),
  when: When.default({}),
  pool: z.string().min(1),
});
export type RoutingRule = z.infer<typeof RoutingRuleSchema>;
export type RuleCondition = RoutingRule['when'];

export const RoutingSchema = z.strictObject({
  pools: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a pool name such as "sdr-team"' }), PoolSchema),
  /** First match wins; the last rule should have no `when`, so every lead has a pool. */
  rules: z.array(RoutingRuleSchema).min(1),
  /** A lead whose e-mail domain is a known account's goes to that account's owner first. */
  accountOwnerFirst: z.boolean().default(true),
  /** Open leads a rep may hold; DOMAIN.md: Vendasta capped reps at 500. A member's own `cap` wins. */
  cap: z.int().positive().default(500),
  /** When reps take leads, unless a member says otherwise. */
  workingHours: WorkingHoursSchema.default({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:00-18:00' }),
  /** Respect working hours when assigning; off, a lead goes to a rep at any hour. */
  respectWorkingHours: z.boolean().default(false),
  /** A queued lead asks again this often, besides being told when a rep frees up. */
  queueRecheck: DurationSchema.default('1m'),
  /** The pool a lead goes to when its meeting is booked: field sales. */
  meetingPool: z.string().min(1).optional(),
});
export type Routing = z.infer<typeof RoutingSchema>;

export function poolMembers(pool: Pool): { email: string; weight: number }[] {
  return pool.members.map((m) => (typeof m === 'string' ? { email: m, weight: 1 } : { email: m.email, weight: m.weight }));
}
