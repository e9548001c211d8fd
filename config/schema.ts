import { z } from 'zod';
import { CadenceSchema, stepKind, variantsOf } from './cadence';
import { DurationSchema } from './duration';
import { isTimeZone, SendingSchema, TiersSchema } from './sending';
import { placeholderProblem, templatePlaceholders } from './template';

const Duration = DurationSchema;

const TimeZone = z.string().refine(isTimeZone, {
  error: 'expected an IANA time zone such as "America/New_York" or "Asia/Seoul"',
});

const Email = z.email({ error: 'expected an e-mail address such as "mina@example.com"' });

/** A named message: an e-mail (subject and body) or an SMS (body only), with fallbacks for fields that may be missing. */
export const TemplateSchema = z
  .strictObject({
    subject: z.string().min(1).optional(),
    body: z.string().min(1),
    /** html: the body is HTML and every value from a lead is escaped; text (the default) sends it as written. */
    format: z.enum(['text', 'html']).default('text'),
    /** What to print when a field is missing, e.g. `lead.title: "your team"`. */
    fallbacks: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((template, ctx) => {
    for (const part of ['subject', 'body'] as const) {
      const text = template[part];
      if (text === undefined) continue;
      const parsed = templatePlaceholders(text);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', path: [part], message: `template does not parse: ${parsed.error}` });
        continue;
      }
      for (const name of new Set(parsed.names)) {
        const problem = placeholderProblem(name, template.fallbacks);
        if (problem) ctx.addIssue({ code: 'custom', path: [part], message: problem });
      }
    }
  });

export const ROLES = ['sdr', 'bdr', 'ae', 'manager'] as const;

export const TeamMemberSchema = z.strictObject({
  name: z.string().min(1),
  email: Email,
  role: z.enum(ROLES),
  timezone: TimeZone,
  /** The manager's e-mail; without it, escalations go to the first manager on the team. */
  manager: Email.optional(),
});

export const IcpSchema = z
  .strictObject({
    industries: z.array(z.string().min(1)).min(1),
    regions: z.array(z.string().min(1)).min(1),
    employees: z.strictObject({ min: z.int().nonnegative().default(0), max: z.int().positive().optional() }),
  })
  .refine((icp) => icp.employees.max === undefined || icp.employees.min <= icp.employees.max, {
    path: ['employees', 'max'],
    error: 'expected max to be at least min',
  });

export { CadenceSchema, CADENCE_EXITS, type Cadence, type CadenceStep, type CadenceExit } from './cadence';
export { SendingSchema, TiersSchema, type Sending, type Tiers, type Tier } from './sending';

export const ConfigSchema = z
  .strictObject({
    sender: z.strictObject({ name: z.string().min(1), email: Email }),
    unsubscribe: z.strictObject({
      /** Where a lead unsubscribes; "{{leadId}}" is replaced by the journey's ID. */
      url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
      mailto: Email.optional(),
    }),
    team: z.array(TeamMemberSchema).min(1),
    icp: IcpSchema,
    sla: z.strictObject({
      firstTouch: z.strictObject({ inbound: Duration.optional(), outbound: Duration.optional() }),
    }),
    /** Where contacts' clocks, windows, holidays and limits are set. */
    sending: SendingSchema,
    /** The number SMS steps send from, in E.164 form; the Twilio credentials come from the environment. */
    sms: z.strictObject({ from: z.string().regex(/^\+[1-9]\d{6,14}$/, { error: 'expected a phone number in E.164 form such as "+14155550123"' }) }).optional(),
    templates: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a template name such as "nurture-guide"' }), TemplateSchema),
    cadences: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a cadence name such as "nurture"' }), CadenceSchema),
    /** Outbound account programs by tier (A, B, C). */
    tiers: TiersSchema.optional(),
    journey: z
      .strictObject({
        /** The cadence a lead outside the ICP follows. */
        nurtureCadence: z.string().min(1).default('nurture'),
        /** How long after the last nurture e-mail a reply still reaches an SDR. */
        replyWindow: Duration.default('30d'),
        /** A journey with no touch, reply or other event for this long ends, and its history with it. */
        endAfterInactivity: Duration.default('90d'),
      })
      .default({ nurtureCadence: 'nurture', replyWindow: '30d', endAfterInactivity: '90d' }),
  })
  .superRefine((config, ctx) => {
    checkCadenceReferences(config, ctx);
    const emails = config.team.map((member) => member.email.toLowerCase());
    const managers = new Set(config.team.filter((m) => m.role === 'manager').map((m) => m.email.toLowerCase()));
    emails.forEach((email, i) => {
      if (emails.indexOf(email) !== i) ctx.addIssue({ code: 'custom', path: ['team', i, 'email'], message: `"${email}" is on the team twice` });
    });
    config.team.forEach((member, i) => {
      if (member.manager && !managers.has(member.manager.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['team', i, 'manager'], message: `expected the e-mail of a team member with role manager, got "${member.manager}"` });
      }
    });
    // Routing needs someone to route to: inbound leads go to SDRs, outbound accounts to BDRs,
    // and a breached SLA needs a manager to hear about it.
    for (const role of ['sdr', 'bdr', 'manager'] as const) {
      if (!config.team.some((member) => member.role === role)) {
        ctx.addIssue({ code: 'custom', path: ['team'], message: `expected at least one member with role ${role}` });
      }
    }
  });

type ConfigShape = Pick<z.infer<typeof ConfigSchema>, 'templates' | 'cadences' | 'tiers' | 'journey' | 'sms'>;

/** Every template, cadence and step a config refers to must exist and fit where it is used. */
function checkCadenceReferences(config: ConfigShape, ctx: z.RefinementCtx): void {
  const cadenceNames = Object.keys(config.cadences);
  const needCadence = (name: string, path: (string | number)[]) => {
    if (!config.cadences[name]) ctx.addIssue({ code: 'custom', path, message: `no cadence named "${name}": expected one of ${cadenceNames.join(', ')}` });
  };
  needCadence(config.journey.nurtureCadence, ['journey', 'nurtureCadence']);
  for (const tier of ['A', 'B', 'C'] as const) {
    const program = config.tiers?.programs[tier];
    if (program) needCadence(program.cadence, ['tiers', 'programs', tier, 'cadence']);
  }
  const templateNames = Object.keys(config.templates);
  for (const [name, cadence] of Object.entries(config.cadences)) {
    cadence.steps.forEach((step, i) => {
      const kind = stepKind(step);
      const refs = kind === 'email' ? variantsOf(step.email!) : kind === 'sms' ? variantsOf(step.sms!) : step.template ? [step.template] : [];
      const at = ['cadences', name, 'steps', i, kind === 'task' ? 'template' : kind];
      for (const ref of refs) {
        const template = config.templates[ref];
        if (!template) ctx.addIssue({ code: 'custom', path: at, message: `no template named "${ref}": expected one of ${templateNames.join(', ')}` });
        else if (kind === 'email' && !template.subject) ctx.addIssue({ code: 'custom', path: at, message: `template "${ref}" has no subject: an e-mail step needs one` });
      }
      if (kind === 'sms' && !config.sms) ctx.addIssue({ code: 'custom', path: at, message: 'an sms step needs sms.from, the number to send from' });
    });
  }
}

export type Config = z.infer<typeof ConfigSchema>;
export type Template = z.infer<typeof TemplateSchema>;
export type TeamMember = z.infer<typeof TeamMemberSchema>;
export type Icp = z.infer<typeof IcpSchema>;
export type Role = (typeof ROLES)[number];
