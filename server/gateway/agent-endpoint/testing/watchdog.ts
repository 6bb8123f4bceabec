import vm from "node:vm";

/**
 * Runs `fn` synchronously under a watchdog: after `timeoutMs` V8 terminates
 * it, even inside a regular expression that backtracks for ever (a test's own
 * timeout cannot, since the event loop is blocked), and this throws
 * ERR_SCRIPT_EXECUTION_TIMEOUT. For fuzzing parsers and the redactor.
 */
export function withWatchdog<T>(timeoutMs: number, fn: () => T): T {
  const context: { fn: () => T; result?: T } = { fn };
  vm.runInNewContext("result = fn()", context, { timeout: timeoutMs });
  return context.result as T;
}
