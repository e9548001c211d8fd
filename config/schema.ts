import { z } from 'zod';
import { CadenceSchema } from './cadence';
import { stepKind, variantsOf } from './vocabulary';
import { DurationSchema } from './durationSchema';
import { isTimeZone, SendingSchema, TiersSchema } from './sending';
import { placeholderProblem, templatePlaceholders } from './template';
import { QualificationSchema } from './qualification';
import { poolMembers, RoutingSchema, WorkingHoursSchema } from './routing';
import { SlaSchema } from './sla';

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
  /** E.164; a manager's phone gets SMS escalations for urgent grades. */
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, { error: 'expected a phone number in E.164 form such as "+14155550123"' }).optional(),
  /** Open leads this rep may hold, instead of routing.cap. */
  cap: z.int().positive().optional(),
  /** This rep's hours, instead of routing.workingHours. */
  workingHours: WorkingHoursSchema.optional(),
  /** The day the rep left: kept for the record, never assigned a lead again. */
  left: z.iso.date({ error: 'expected the date the rep left, such as "2026-11-30"' }).optional(),
});

export { CadenceSchema, CADENCE_EXITS, type Cadence, type CadenceStep, type CadenceExit } from './cadence';
export { SendingSchema, TiersSchema, type Sending, type Tiers, type Tier } from './sending';

export const ConfigSchema = z
  .strictObject({
    sender: z.strictObject({ name: z.string().min(1), email: Email }),
    unsubscribe: z.strictObject({
      /** Where a lead unsubscribes; "{{token}}" is replaced by the signed token (activities/signedLinks.ts); "{{leadId}}", from older files, too. */
      url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
      mailto: Email.optional(),
    }),
    team: z.array(TeamMemberSchema).min(1),
    qualification: QualificationSchema,
    routing: RoutingSchema,
    sla: SlaSchema.default({ policies: [], urgentGrades: [], digest: { at: '08:00' } }),
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
        /** A no-show gets the owner a reschedule task; this template, if set, reminds the lead. */
        noShowReminder: z.string().min(1).optional(),
        /** Closed-lost leads rest this long, then re-enter this cadence ({{deal.lostReason}} in its templates). */
        recycle: z.strictObject({ coolOff: Duration.default('90d'), cadence: z.string().min(1) }).optional(),
      })
      .default({ nurtureCadence: 'nurture', replyWindow: '30d', endAfterInactivity: '90d' }),
  })
  .superRefine((config, ctx) => {
    checkCadenceReferences(config, ctx);
    checkRouting(config, ctx);
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

/** Pools hold team members; rules and handoffs name pools that exist; every lead finds a rule. */
function checkRouting(config: Pick<z.infer<typeof ConfigSchema>, 'routing' | 'team' | 'sla' | 'sms' | 'journey' | 'templates'>, ctx: z.RefinementCtx): void {
  const team = new Map(config.team.map((m) => [m.email.toLowerCase(), m]));
  const poolNames = Object.keys(config.routing.pools);
  for (const [name, pool] of Object.entries(config.routing.pools)) {
    poolMembers(pool).forEach(({ email }, i) => {
      const member = team.get(email.toLowerCase());
      if (!member) ctx.addIssue({ code: 'custom', path: ['routing', 'pools', name, 'members', i], message: `"${email}" is not on the team` });
      else if (member.role === 'manager') ctx.addIssue({ code: 'custom', path: ['routing', 'pools', name, 'members', i], message: `"${email}" is a manager: pools hold reps (sdr, bdr, ae)` });
    });
    if (pool.manager && team.get(pool.manager.toLowerCase())?.role !== 'manager') {
      ctx.addIssue({ code: 'custom', path: ['routing', 'pools', name, 'manager'], message: `expected the e-mail of a team member with role manager, got "${pool.manager}"` });
    }
  }
  const needPool = (pool: string, path: (string | number)[]) => {
    if (!config.routing.pools[pool]) ctx.addIssue({ code: 'custom', path, message: `no pool named "${pool}": expected one of ${poolNames.join(', ')}` });
  };
  config.routing.rules.forEach((rule, i) => needPool(rule.pool, ['routing', 'rules', i, 'pool']));
  const last = config.routing.rules.at(-1);
  if (last && Object.keys(last.when).length > 0) {
    ctx.addIssue({ code: 'custom', path: ['routing', 'rules', config.routing.rules.length - 1], message: 'expected the last rule to have no `when`, so every lead has a pool' });
  }
  if (config.routing.meetingPool) needPool(config.routing.meetingPool, ['routing', 'meetingPool']);
  if (config.journey.noShowReminder && !config.templates[config.journey.noShowReminder]) {
    ctx.addIssue({ code: 'custom', path: ['journey', 'noShowReminder'], message: `no template named "${config.journey.noShowReminder}"` });
  }
  if (config.sla.urgentGrades.length > 0 && !config.sms) {
    ctx.addIssue({ code: 'custom', path: ['sla', 'urgentGrades'], message: 'SMS escalations need sms.from, the number to send from' });
  }
  const names = config.sla.policies.map((p) => p.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: ['sla', 'policies', i, 'name'], message: `"${name}" names two SLAs` });
  });
}

type ConfigShape = Pick<z.infer<typeof ConfigSchema>, 'templates' | 'cadences' | 'tiers' | 'journey' | 'sms'>;

/** Every template, cadence and step a config refers to must exist and fit where it is used. */
function checkCadenceReferences(config: ConfigShape, ctx: z.RefinementCtx): void {
  const cadenceNames = Object.keys(config.cadences);
  const needCadence = (name: string, path: (string | number)[]) => {
    if (!config.cadences[name]) ctx.addIssue({ code: 'custom', path, message: `no cadence named "${name}": expected one of ${cadenceNames.join(', ')}` });
  };
  needCadence(config.journey.nurtureCadence, ['journey', 'nurtureCadence']);
  if (config.journey.recycle) needCadence(config.journey.recycle.cadence, ['journey', 'recycle', 'cadence']);
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
export type Role = (typeof ROLES)[number];
