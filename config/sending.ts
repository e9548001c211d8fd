import { z } from 'zod';
import { DurationSchema } from './durationSchema';
import { WEEKDAYS } from './vocabulary';

// When and how often Pipewright may reach a contact, and which accounts get which outbound program.

const WINDOW = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;
const Window = z
  .string()
  .regex(WINDOW, { error: 'expected a local time window such as "08:00-10:00"' })
  .refine((w) => w.slice(0, 5) < w.slice(6), { error: 'expected the window to end after it starts' });

const Count = z.int().positive();

export const SendingSchema = z
  .strictObject({
    /** A contact's clock when the lead gives no time zone, country or known region. */
    timezone: z.string().refine(isTimeZone, { error: 'expected an IANA time zone such as "America/New_York"' }),
    /** Try a cadence without waiting for 08:00: windows, weekends and holidays are ignored. Never in production. */
    sandbox: z.boolean().default(false),
    businessDays: z.array(z.enum(WEEKDAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    /** Skip the public holidays of the contact's country. */
    holidays: z.boolean().default(true),
    /** Local times a message to a contact may go out, per channel; none means any time of a business day. */
    windows: z.strictObject({ email: z.array(Window).default([]), sms: z.array(Window).default([]) }).default({ email: [], sms: [] }),
    limits: z
      .strictObject({
        /** Across every cadence and program the contact is in. */
        perContact: z.strictObject({ perDay: Count.optional(), perWeek: Count.optional() }).default({}),
        /** E-mails from the sender's mailbox in any 24 hours. */
        perMailbox: z.strictObject({ perDay: Count.optional() }).default({}),
      })
      .default({ perContact: {}, perMailbox: {} }),
  });

export const TIERS = ['A', 'B', 'C'] as const;
export type Tier = (typeof TIERS)[number];

const TierRule = z.strictObject({
  tier: z.enum(TIERS),
  /** Every condition given must hold; a rule without any matches every account (a default). */
  when: z
    .strictObject({
      industries: z.array(z.string().min(1)).min(1).optional(),
      regions: z.array(z.string().min(1)).min(1).optional(),
      employees: z.strictObject({ min: z.int().nonnegative().optional(), max: z.int().positive().optional() }).optional(),
    })
    .default({}),
});

export const ProgramSchema = z.strictObject({
  /** The cadence every contact of the account follows. */
  cadence: z.string().min(1),
  /** How many of the account's contacts the program reaches (the first ones in the account file). */
  contacts: z.int().positive(),
  /** Time between one contact's start and the next one's, so a company is not hit all at once. */
  stagger: DurationSchema.default('0m'),
});

export const TiersSchema = z.strictObject({
  /** The first rule that matches an account without a tier of its own decides its tier. */
  rules: z.array(TierRule).default([]),
  programs: z.strictObject({ A: ProgramSchema, B: ProgramSchema, C: ProgramSchema }),
});

export type Sending = z.infer<typeof SendingSchema>;
export type Tiers = z.infer<typeof TiersSchema>;
export type Program = z.infer<typeof ProgramSchema>;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
