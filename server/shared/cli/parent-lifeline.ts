/** Set by a parent (the demo) in its children's environment: "stdin" means the lifeline below. */
export const LIFELINE_ENV = "STALLWATCH_PARENT_LIFELINE";

/**
 * A child started with `STALLWATCH_PARENT_LIFELINE=stdin` and a pipe as its
 * stdin stops as if sent SIGTERM once that pipe closes. The parent holds the
 * other end, and the kernel closes it however the parent ends, SIGKILL and
 * a closed terminal included, so its children never outlive it as orphans
 * still holding ports and probing workers.
 *
 * Returns whether the lifeline is on.
 */
export function stopWhenParentGoes(
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadableStream = process.stdin,
  stop: () => void = () => process.kill(process.pid, "SIGTERM"),
): boolean {
  if (env[LIFELINE_ENV] !== "stdin") return false;
  let gone = false;
  const parentGone = () => {
    if (gone) return;
    gone = true;
    stop();
  };
  // Whatever the parent writes is not for us: read to keep the pipe drained.
  stdin.on("data", () => undefined);
  stdin.on("end", parentGone);
  stdin.on("close", parentGone);
  stdin.on("error", parentGone);
  return true;
}
