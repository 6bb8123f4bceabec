const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Reads a written duration ("90s", "10m", "1h30m", "500ms") as milliseconds,
 * or undefined when it is not one. A bare number is refused on purpose: "10"
 * could mean seconds or minutes, and a policy that cancels work must not guess.
 */
export function parseDuration(text: string): number | undefined {
  const compact = text.trim();
  if (compact.length > 32 || !DURATION.test(compact)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of compact.matchAll(PART))
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Math.round(ms);
}
