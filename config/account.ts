import { z } from 'zod';
import { TIERS } from './sending';

// An outbound target account as a BDR's list hands it to us: the company, its tier, and the people
// the program reaches. The domain is the account's identity: one program per domain.

const Email = z.email({ error: 'expected an e-mail address such as "jane@acme.com"' });
const Fields = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const AccountContactSchema = z.strictObject({
  email: Email,
  firstName: z.string().min(1),
  lastName: z.string().min(1).optional(),
  title: z.string().min(1).optional(),
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, { error: 'expected a phone number in E.164 form such as "+14155550123"' }).optional(),
  timezone: z.string().min(1).optional(),
  country: z.string().regex(/^[A-Za-z]{2}$/, { error: 'expected a two-letter country code such as "KR"' }).optional(),
  fields: Fields.optional(),
});

export const AccountSchema = z
  .strictObject({
    name: z.string().min(1),
    domain: z.string().regex(/^(?!-)[a-z0-9-]+(\.[a-z0-9-]+)+$/i, { error: 'expected a domain such as "acme.com"' }),
    /** From the account list; when left out, the config's tier rules decide. */
    tier: z.enum(TIERS).optional(),
    /** The BDR who owns the account; the program hands the account to them when someone replies. */
    owner: Email.optional(),
    industry: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    country: z.string().regex(/^[A-Za-z]{2}$/, { error: 'expected a two-letter country code such as "KR"' }).optional(),
    employees: z.int().positive().optional(),
    fields: Fields.optional(),
    contacts: z.array(AccountContactSchema).min(1),
  })
  .superRefine((account, ctx) => {
    const emails = account.contacts.map((c) => c.email.trim().toLowerCase());
    emails.forEach((email, i) => {
      if (emails.indexOf(email) !== i) ctx.addIssue({ code: 'custom', path: ['contacts', i, 'email'], message: `"${email}" is listed twice` });
    });
  });

export type Account = z.infer<typeof AccountSchema>;
export type AccountContact = z.infer<typeof AccountContactSchema>;

/** One program per account: adding the same account twice finds the same workflow. */
export function accountProgramId(account: Pick<Account, 'domain'>): string {
  return `account-${account.domain.trim().toLowerCase()}`;
}
