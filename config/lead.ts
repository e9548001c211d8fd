import { z } from 'zod';
import { BantSchema } from './qualification';

// A lead as a form, a CRM or a list upload hands it to us. The e-mail address is the lead's
// identity: CRMs dedupe on it, and the journey's workflow ID is derived from it.
export const LeadSchema = z.strictObject({
  email: z.email({ error: 'expected an e-mail address such as "jane@acme.com"' }),
  firstName: z.string().min(1),
  lastName: z.string().min(1).optional(),
  company: z.string().min(1),
  title: z.string().min(1).optional(),
  industry: z.string().min(1),
  region: z.string().min(1),
  employees: z.int().positive(),
  source: z.enum(['inbound', 'outbound']),
  phone: z.string().min(1).optional(),
  /** The lead's own IANA time zone; else its country's or region's, else the team's (sending.timezone). */
  timezone: z.string().min(1).optional(),
  /** ISO 3166 alpha-2, e.g. "KR": chooses the public holidays a cadence skips. */
  country: z.string().regex(/^[A-Za-z]{2}$/, { error: 'expected a two-letter country code such as "KR"' }).optional(),
  /** BANT as a CRM already knows it; an SDR's `bant` event adds to it. */
  bant: BantSchema.optional(),
  /** Anything else the templates may use, as `{{lead.fields.name}}`. */
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export type Lead = z.infer<typeof LeadSchema>;
