// Durations as marketing ops write them in the config file: a whole number and a unit, "5m", "3d".
// Kept deliberately small (no "1.5h", no "3 days") so a typo is an error, not a surprise.
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)(s|m|h|d|w)$/;

export const DURATION_HINT = 'expected a duration such as "3d" (a whole number, then s, m, h, d or w)';

export function isDuration(text: string): boolean {
  return DURATION.test(text);
}

/** Milliseconds in a duration written like "3d"; throws on anything else. */
export function durationMs(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`"${text}": ${DURATION_HINT}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** "1d 2h 3m", for people reading an escalation or a CLI listing. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / seconds);
    rest -= n * seconds;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.join(' ');
}
