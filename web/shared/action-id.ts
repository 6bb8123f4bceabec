/**
 * A fresh id for an action the dashboard starts. The gateway treats a repeated
 * id as the same action (it returns it rather than starting a second), so a
 * caller makes one id per attempt and reuses it on retries of that attempt.
 *
 * The gateway accepts 1-100 letters, digits, `_` or `-`
 * (`server/gateway/actions/action-request.ts`): the prefix says where it came
 * from in the audit log ("ui", "ui-retry"), the rest is the time and 64 random
 * bits. `crypto.getRandomValues`, not `randomUUID`: the latter exists only in
 * secure contexts, and a dashboard behind a plain-HTTP proxy is not one.
 */
export function newActionId(prefix: "ui" | "ui-retry"): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  const bits = [...random].map((n) => n.toString(36).padStart(7, "0")).join("");
  return `${prefix}-${Date.now().toString(36)}-${bits}`;
}
