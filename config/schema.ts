import { z } from 'zod';
import { DURATION_HINT, isDuration } from './duration';
import { LEAD_PLACEHOLDERS } from './lead';
import { templatePlaceholders } from './template';

const Duration = z.string({ error: DURATION_HINT }).refine(isDuration, { error: DURATION_HINT });

const TimeZone = z.string().refine(isTimeZone, {
  error: 'expected an IANA time zone such as "America/New_York" or "Asia/Seoul"',
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const Email = z.email({ error: 'expected an e-mail address such as "mina@example.com"' });

/** What a cadence e-mail may say: the lead, the sender and the unsubscribe link. */
export const MARKETING_PLACEHOLDERS = [...LEAD_PLACEHOLDERS, 'sender.name', 'sender.email', 'unsubscribeUrl'];

const Template = z.string().min(1).superRefine((text, ctx) => {
  const parsed = templatePlaceholders(text);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: `template does not parse: ${parsed.error}` });
    return;
  }
  for (const name of parsed.names) {
    if (!MARKETING_PLACEHOLDERS.includes(name) && !name.startsWith('lead.fields.')) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {{${name}}}: expected one of ${MARKETING_PLACEHOLDERS.join(', ')} or lead.fields.<name>`,
      });
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

export const CadenceStepSchema = z.strictObject({
  /** Time after the previous step (after the start, for the first step). */
  wait: Duration,
  subject: Template,
  body: Template,
});

export const CadenceSchema = z.strictObject({ steps: z.array(CadenceStepSchema).min(1) });

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
    cadences: z.strictObject({ nurture: CadenceSchema }),
    journey: z
      .strictObject({
        /** How long after the last nurture e-mail a reply still reaches an SDR. */
        replyWindow: Duration.default('30d'),
        /** A journey with no touch, reply or other event for this long ends, and its history with it. */
        endAfterInactivity: Duration.default('90d'),
      })
      .default({ replyWindow: '30d', endAfterInactivity: '90d' }),
  })
  .superRefine((config, ctx) => {
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

export type Config = z.infer<typeof ConfigSchema>;
export type TeamMember = z.infer<typeof TeamMemberSchema>;
export type Icp = z.infer<typeof IcpSchema>;
export type Cadence = z.infer<typeof CadenceSchema>;
export type CadenceStep = z.infer<typeof CadenceStepSchema>;
export type Role = (typeof ROLES)[number];
