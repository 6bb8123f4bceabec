/**
 * A problem with how the command was invoked (bad flag, invalid address, a
 * value out of range). The CLI prints the message and exits with code 2.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
