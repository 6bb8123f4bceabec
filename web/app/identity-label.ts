/**
 * "operator" plus who, once: the gateway's actor for a token is already
 * "operator (token)", which must not become "operator (operator (token))".
 */
export function identityLabel(actor: string): string {
  if (!actor) return "operator";
  return actor.toLowerCase().startsWith("operator") ? actor : `operator · ${actor}`;
}
