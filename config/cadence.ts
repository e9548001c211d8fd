import { z } from 'zod';
import { isDuration } from './duration';
import { DurationSchema } from './durationSchema';
import { NEXT_BUSINESS_DAY, STEP_KINDS } from './vocabulary';

// A cadence is data: a list of steps that one engine (workflows/cadence/) walks. Each step has a
// stable id, so a live cadence can be edited and running journeys moved to the new definition by id.

/** What ends a cadence early. Unsubscribes and bounces always do; the rest are the team's call. */
export const CADENCE_EXITS = ['replied', 'meeting-booked', 'unsubscribed', 'bounced', 'disqualified', 'converted'] as const;
export type CadenceExit = (typeof CADENCE_EXITS)[number];

/** Events a branch step can look for. */
export const BRANCH_EVENTS = ['opened', 'clicked', 'replied', 'touched', 'meeting-booked'] as const;
export const TASK_CHANNELS = ['call', 'linkedin', 'other'] as const;

const StepId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a step id such as "day-3-email" (lower-case letters, digits and dashes)' });
const TemplateRef = z.string().min(1);
/** One template, or variants that rotate so a contact never gets the same one twice in a row. */
const Templates = z.union([TemplateRef, z.array(TemplateRef).min(1)], { error: 'expected a template name or a list of template names' });

const WAIT_HINT = `expected a duration such as "3d" (a whole number, then s, m, h, d or w), or "${NEXT_BUSINESS_DAY}"`;

const BranchSchema = z
  .strictObject({
    /** Taken when this event is seen within `within` of the previous touch... */
    event: z.enum(BRANCH_EVENTS).optional(),
    within: DurationSchema.optional(),
    /** ...or when this field of the lead or contact (e.g. "contact.title", "lead.fields.plan") has one of these values. */
    field: z.string().regex(/^(lead|contact|account)\.[A-Za-z0-9_.]+$/, { error: 'expected a field such as "contact.title" or "lead.fields.plan"' }).optional(),
    equals: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1).optional(),
    then: StepId,
    /** Where to go otherwise; the next step when left out. */
    else: StepId.optional(),
  })
  .superRefine((branch, ctx) => {
    const onEvent = branch.event !== undefined;
    const onField = branch.field !== undefined;
    if (onEvent === onField) ctx.addIssue({ code: 'custom', message: 'expected either event (with within) or field (with equals)' });
    if (onEvent && !branch.within) ctx.addIssue({ code: 'custom', path: ['within'], message: 'required with event (expected a duration such as "3d")' });
    if (onField && !branch.equals) ctx.addIssue({ code: 'custom', path: ['equals'], message: 'required with field (expected a list of values)' });
  });

export const CadenceStepSchema = z
  .strictObject({
    id: StepId,
    email: Templates.optional(),
    sms: Templates.optional(),
    /** A manual touch for the owner: a call, a LinkedIn message, anything else; done when they report it. */
    task: z.enum(TASK_CHANNELS).optional(),
    /** The task's instructions to the owner (a template name); a task without one says only what to do. */
    template: TemplateRef.optional(),
    wait: z
      .string({ error: WAIT_HINT })
      .refine((w) => w === NEXT_BUSINESS_DAY || isDuration(w), { error: WAIT_HINT })
      .optional(),
    branch: BranchSchema.optional(),
    /** Ends the cadence here, with this word as the reason ("completed", "handed-over"). */
    exit: z.string().min(1).optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = STEP_KINDS.filter((kind) => step[kind] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: kinds.length ? `expected one step kind, got ${kinds.join(' and ')}` : `expected one of ${STEP_KINDS.join(', ')}` });
    }
    if (step.template !== undefined && step.task === undefined) ctx.addIssue({ code: 'custom', path: ['template'], message: 'only a task step has a template key; e-mail and sms steps name theirs directly' });
  });

export const CadenceSchema = z
  .strictObject({
    steps: z.array(CadenceStepSchema).min(1),
    exitOn: z.array(z.enum(CADENCE_EXITS)).default([...CADENCE_EXITS]),
  })
  .superRefine((cadence, ctx) => {
    const ids = cadence.steps.map((s) => s.id);
    ids.forEach((id, i) => {
      if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `"${id}" is used by an earlier step: step ids must be unique` });
    });
    cadence.steps.forEach((step, i) => {
      for (const key of ['then', 'else'] as const) {
        const target = step.branch?.[key];
        if (target !== undefined && !ids.includes(target)) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'branch', key], message: `no step with id "${target}": expected one of ${ids.join(', ')}` });
        }
      }
    });
    for (const must of ['unsubscribed', 'bounced'] as const) {
      if (!cadence.exitOn.includes(must)) ctx.addIssue({ code: 'custom', path: ['exitOn'], message: `must include ${must}: nobody keeps getting messages after that` });
    }
  });

export type Cadence = z.infer<typeof CadenceSchema>;
export type CadenceStep = z.infer<typeof CadenceStepSchema>;
