import { z } from 'zod';
import { BantSchema } from './qualification';
import { longText, oneLine } from './text';

// A lead as a form, a CRM or a list upload hands it to us. The e-mail address is the lead's
// identity: CRMs dedupe on it, and the journey's workflow ID is derived from it. Every text has a
// sane length: the intake faces the internet, and a lead travels in each of its journey's tasks.

/** RFC 5321: at most 64 characters before the @, and 254 in all (a path of 256 with its brackets). */
const Address = z
  .email({ error: 'expected an e-mail address such as "jane@acme.com"' })
  .max(254, { error: 'expected at most 254 characters (RFC 5321)' })
  .refine((email) => email.indexOf('@') <= 64, { error: 'expected at most 64 characters before the @ (RFC 5321)' });
export const LeadSchema = z.strictObject({
  email: Address,
  firstName: oneLine(100),
  lastName: oneLine(100).optional(),
  company: oneLine(200),
  title: oneLine(200).optional(),
  industry: oneLine(100),
  region: oneLine(100),
  employees: z.int().positive(),
  source: z.enum(['inbound', 'outbound']),
  phone: oneLine(32).optional(),
  /** The lead's own IANA time zone; else its country's or region's, else the team's (sending.timezone). */
  timezone: oneLine(64).optional(),
  /** ISO 3166 alpha-2, e.g. "KR": chooses the public holidays a cadence skips. */
  country: z.string().regex(/^[A-Za-z]{2}$/, { error: 'expected a two-letter country code such as "KR"' }).optional(),
  /** BANT as a CRM already knows it; an SDR's `bant` event adds to it. */
  bant: BantSchema.optional(),
  /** Anything else the templates may use, as `{{lead.fields.name}}`. */
  fields: z
    .record(oneLine(64), z.union([longText(1000), z.number(), z.boolean()]))
    .refine((fields) => Object.keys(fields).length <= 50, { error: 'expected at most 50 fields' })
    .optional(),
});

export type Lead = z.infer<typeof LeadSchema>;
