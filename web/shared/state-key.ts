/**
 * A stable, class-safe key for a protobuf enum value: its name, lower-case
 * and kebab ("WAITING_FOR_INPUT" → "waiting-for-input"). Class names follow
 * the state, never the word shown (which may change), so CSS selects
 * `.liveness-unspecified` whatever the badge says. `names` is the generated
 * enum itself (TypeScript numeric enums map values back to names).
 */
export function stateKey(names: Readonly<Record<number, string>>, value: number): string {
  return (names[value] ?? "unknown").toLowerCase().replaceAll("_", "-");
}
