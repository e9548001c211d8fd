import { z } from 'zod';
import { DurationSchema } from './durationSchema';
import { GRADES } from './qualification';

// What sales promises marketing (DOMAIN.md: follow up within X minutes, at least X calls in the
// first week), and what happens, rung by rung, when a promise is about to be or has been broken.

export const SLA_KINDS = ['first-touch', 'persistence', 'reply-follow-up'] as const;
export type SlaKind = (typeof SLA_KINDS)[number];

const Fraction = z.number().gt(0).lt(1, { error: 'expected a fraction of the SLA between 0 and 1, such as 0.5' });

export const SlaPolicySchema = z
  .strictObject({
    /** Shown in reminders, escalations and `sla breaches`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected an SLA name such as "inbound-first-touch"' }),
    /**
     * first-touch: the owner's first touch within `within` of assignment.
     * persistence: at least `touches` touches by the owner within `within` of assignment.
     * reply-follow-up: the owner's touch within `within` of each reply.
     */
    kind: z.enum(SLA_KINDS),
    /** Which leads it covers; none means all. */
    when: z
      .strictObject({ source: z.array(z.enum(['inbound', 'outbound'])).min(1).optional(), grade: z.array(z.enum(GRADES)).min(1).optional() })
      .default({}),
    within: DurationSchema,
    touches: z.int().positive().optional(),
    /** business-hours: the clock runs only inside the owner's working hours (routing.workingHours). */
    clock: z.enum(['always', 'business-hours']).default('always'),
    /** Reminders to the owner at these fractions of the time allowed, e.g. [0.5, 0.75]. */
    remindAt: z.array(Fraction).default([]),
    /** At breach the owner's manager is told by e-mail, and by SMS for `sla.urgentGrades`. */
    /** A second deadline, counted like `within` from the same start: the lead goes to the next rep. */
    reassignAfter: DurationSchema.optional(),
  })
  .superRefine((policy, ctx) => {
    if (policy.kind === 'persistence' && !policy.touches) ctx.addIssue({ code: 'custom', path: ['touches'], message: 'a persistence SLA needs touches: how many in `within`' });
    if (policy.kind !== 'persistence' && policy.touches) ctx.addIssue({ code: 'custom', path: ['touches'], message: `touches applies to persistence SLAs only, not ${policy.kind}` });
  });
export type SlaPolicy = z.infer<typeof SlaPolicySchema>;

export const SlaSchema = z.strictObject({
  policies: z.array(SlaPolicySchema).default([]),
  /** Grades whose breaches also reach the manager by SMS (the manager's `phone` on the team). */
  urgentGrades: z.array(z.enum(GRADES)).default([]),
  /** When each manager gets the day's digest: breaches, leads waiting in full pools, reps away. */
  digest: z
    .strictObject({ at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time such as "08:00"' }).default('08:00'), timezone: z.string().optional() })
    .default({ at: '08:00' }),
});
export type Sla = z.infer<typeof SlaSchema>;
