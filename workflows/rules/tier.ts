import type { Account } from '../../config/account';
import type { Tier, Tiers } from '../../config/sending';

/** An account's tier: its own from the account list, else the first configured rule that matches. */
export function tierFor(account: Account, rules: Tiers['rules']): { tier: Tier; why: string } {
  if (account.tier) return { tier: account.tier, why: 'from the account file' };
  const norm = (s: string) => s.trim().toLowerCase();
  for (const [i, rule] of rules.entries()) {
    const { industries, regions, employees } = rule.when;
    if (industries && !(account.industry && industries.map(norm).includes(norm(account.industry)))) continue;
    if (regions && !(account.region && regions.map(norm).includes(norm(account.region)))) continue;
    if (employees) {
      if (account.employees === undefined) continue;
      if (employees.min !== undefined && account.employees < employees.min) continue;
      if (employees.max !== undefined && account.employees > employees.max) continue;
    }
    return { tier: rule.tier, why: `tiers.rules[${i}]` };
  }
  // Most accounts are C (60% in the seeds): mass e-mail costs least when nothing says otherwise.
  return { tier: 'C', why: 'no rule matched' };
}
