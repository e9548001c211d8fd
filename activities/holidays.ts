import Holidays, { type HolidaysTypes } from 'date-holidays';

// Public holidays of a contact's country, for the send rules (workflows/rules/sendWindow.ts).
// date-holidays is large (its data for ~200 countries), so it runs here, in an activity or the
// client, never in the workflow sandbox: the journey gets the plain list as input.

const DAY = 86_400_000;

export interface PublicHoliday {
  /** The local date in the country, 'YYYY-MM-DD'. */
  date: string;
  /** The holiday's name with its country, e.g. "Korean Thanksgiving (KR)". */
  name: string;
}

/**
 * Every local date that is a public holiday in `country` (ISO 3166 alpha-2) in the given years,
 * sorted, one entry per day: a three-day holiday such as Chuseok gives three dates.
 */
export function holidaysFor(country: string, years: number[]): string[] {
  return [...new Set(publicHolidays(country, years).map((h) => h.date))].sort();
}

/** The same days by name, so a shifted step can say which holiday moved it. */
export function holidayNamesFor(country: string, years: number[], language = 'en'): Record<string, string> {
  const names: Record<string, string> = {};
  for (const { date, name } of publicHolidays(country, years, language)) {
    // Two holidays can share a day (a substitute day landing on another holiday): name both.
    names[date] = names[date] && names[date] !== name ? `${names[date]} / ${name}` : name;
  }
  return names;
}

/**
 * Public holidays only: bank, school, optional and observance days (Valentine's Day, Mother's
 * Day) are ordinary working days for a contact. A country the library does not know gives no
 * holidays rather than an error, so a lead with an odd country still gets windows and weekends.
 */
export function publicHolidays(country: string, years: number[], language = 'en'): PublicHoliday[] {
  const code = country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw new Error(`country "${country}": expected an ISO 3166 alpha-2 code such as "KR"`);
  if (!(code in new Holidays().getCountries())) return [];
  const calendar = new Holidays(code, { languages: [language], types: ['public'] });
  const days: PublicHoliday[] = [];
  for (const year of years) {
    for (const holiday of calendar.getHolidays(year)) {
      if (holiday.type !== 'public') continue;
      for (const date of datesOf(holiday)) days.push({ date, name: `${holiday.name} (${code})` });
    }
  }
  return days.sort((a, b) => a.date.localeCompare(b.date));
}

// The library reports a multi-day holiday once, with its first local date and an end instant
// (Chuseok: "2026-09-24", three days). Round the span to whole days because a DST change inside
// it makes it an hour short or long; a part-day holiday still blocks its whole date.
function datesOf(holiday: HolidaysTypes.Holiday): string[] {
  const first = Date.parse(`${holiday.date.slice(0, 10)}T00:00:00Z`);
  const days = Math.max(1, Math.round((holiday.end.getTime() - holiday.start.getTime()) / DAY));
  return Array.from({ length: days }, (_, i) => new Date(first + i * DAY).toISOString().slice(0, 10));
}
