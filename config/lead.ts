import { z } from 'zod';
import { BantSchema } from './qualification';

// A lead as a form, a CRM or a list upload hands it to us. The e-mail address is the lead's
// identity: CRMs dedupe on it, and the journey's workflow ID is derived from it. Every text has a
// sane length: the intake faces the internet, and a lead travels in each of its journey's tasks.

/** RFC 5321: at most 64 characters before the @, and 254 in all (a path of 256 with its brackets). */
const Address = z
  .email({ error: 'expected an e-mail address such as "jane@acme.com"' })
  .max(254, { error: 'expected at most 254 characters (RFC 5321)' })
  .refine((email) => email.indexOf('@') <= 64, { error: 'expected at most 64 characters before the @ (RFC 5321)' });
const text = (max: number) => z.string().min(1).max(max, { error: `expected at most ${max} characters` });

export const LeadSchema = z.strictObject({
  email: Address,
  firstName: text(100),
  lastName: text(100).optional(),
  company: text(200),
  title: text(200).optional(),
  industry: text(100),
  region: text(100),
  employees: z.int().positive(),
  source: z.enum(['inbound', 'outbound']),
  phone: text(32).optional(),
  /** The lead's own IANA time zone; else its country's or region's, else the team's (sending.timezone). */
  timezone: text(64).optional(),
  /** ISO 3166 alpha-2, e.g. "KR": chooses the public holidays a cadence skips. */
  country: z.string().regex(/^[A-Za-z]{2}$/, { error: 'expected a two-letter country code such as "KR"' }).optional(),
  /** BANT as a CRM already knows it; an SDR's `bant` event adds to it. */
  bant: BantSchema.optional(),
  /** Anything else the templates may use, as `{{lead.fields.name}}`. */
  fields: z
    .record(text(64), z.union([z.string().max(1000, { error: 'expected at most 1000 characters' }), z.number(), z.boolean()]))
    .refine((fields) => Object.keys(fields).length <= 50, { error: 'expected at most 50 fields' })
    .optional(),
});

export type Lead = z.infer<typeof LeadSchema>;
