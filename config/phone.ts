import { isSupportedCountry, parsePhoneNumber, ParseError, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';

// Phone numbers as Twilio wants them: E.164 ("+14155550123"). The "max" metadata checks each
// country's real number ranges, not only its lengths, so a typo is caught here and not by a carrier.

const EXAMPLE = 'expected a phone number in E.164 form such as "+14155550123"';

/**
 * `input` as E.164, or an error a marketer can act on. Without `defaultCountry` (ISO 3166 code,
 * e.g. "US", "KR") the number must start with "+" and its country code.
 */
export function normalisePhone(input: string, defaultCountry?: string): { e164: string } | { error: string } {
  const shown = JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input);
  let country: CountryCode | undefined;
  if (defaultCountry !== undefined) {
    const code = defaultCountry.toUpperCase();
    if (!isSupportedCountry(code)) return { error: `unknown country "${defaultCountry}": expected an ISO code such as "US" or "KR"` };
    country = code;
  }
  try {
    const number = parsePhoneNumber(input.trim(), { defaultCountry: country, extract: false });
    if (number.ext) return { error: `${shown} has an extension, which cannot receive SMS: ${EXAMPLE}` };
    if (!number.isValid()) {
      const where = number.country ?? country;
      return { error: `${shown} is not a valid phone number${where ? ` in ${where}` : ''}: ${EXAMPLE}` };
    }
    return { e164: number.number };
  } catch (err) {
    const why = err instanceof ParseError ? err.message : 'NOT_A_NUMBER';
    if (why === 'INVALID_COUNTRY') return { error: `${shown} has no country code: ${EXAMPLE}` };
    if (why === 'NOT_A_NUMBER') return { error: `${shown} is not a phone number: ${EXAMPLE}` };
    return { error: `${shown} is not a valid phone number (${why.toLowerCase().replace(/_/g, ' ')}): ${EXAMPLE}` };
  }
}

/** A phone number in the config: any valid international number, output as E.164. */
export const PhoneSchema = z.string().transform((input, ctx) => {
  const result = normalisePhone(input);
  if ('error' in result) {
    ctx.addIssue({ code: 'custom', message: result.error, input });
    return z.NEVER;
  }
  return result.e164;
});
