import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { resolveTarget } from "./target-guard.js";

/** Why one attempt failed, for metrics and the event log (never the URL: it may hold a secret). */
export type DeliveryFailure = "refused_target" | "timeout" | "network" | "redirect" | "status";

export class DeliveryError extends Error {
  constructor(
    readonly reason: DeliveryFailure,
    message: string,
    /** Worth another attempt (a 4xx other than 408/429, a refused target, or a redirect is not). */
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** At most this much of a receiver's answer is read (and thrown away). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * One POST to `url`, connected to the address resolveTarget checked (pinned:
 * no second lookup), within `timeoutMs` for the whole exchange. A redirect
 * is a failure, never followed: it could point anywhere, including where the
 * target check would refuse.
 */
export async function postOnce(
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: { timeoutMs: number; allowPrivate: boolean },
): Promise<void> {
  let target;
  try {
    target = await resolveTarget(url, opts.allowPrivate);
  } catch (err) {
    throw new DeliveryError("refused_target", (err as Error).message, false);
  }
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const client = url.protocol === "https:" ? https : http;
  await new Promise<void>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "POST",
        lookup: pinned,
        headers: {
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "stallwatch-notifier",
          ...headers,
        },
        signal: AbortSignal.timeout(opts.timeoutMs),
      },
      (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        res.on("error", () => undefined);
        res.on("close", () => undefined);
        const status = res.statusCode ?? 0;
        res.resume();
        if (status >= 200 && status < 300) {
          resolve();
          return;
        }
        if (status >= 300 && status < 400) {
          reject(
            new DeliveryError("redirect", `answered ${status} (redirects are not followed)`, false),
          );
          return;
        }
        const retry = status >= 500 || status === 408 || status === 429;
        reject(new DeliveryError("status", `answered ${status}`, retry));
      },
    );
    req.on("error", (err: Error) => {
      const timeout = err.name === "AbortError" || err.name === "TimeoutError";
      reject(
        new DeliveryError(
          timeout ? "timeout" : "network",
          timeout ? `no answer within ${opts.timeoutMs} ms` : err.message,
          true,
        ),
      );
    });
    req.end(body);
  });
}

export interface RetryPolicy {
  attempts: number;
  firstBackoffMs: number;
  maxBackoffMs: number;
}

/** Doubling backoff from `firstBackoffMs`, capped at `maxBackoffMs`. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.firstBackoffMs * 2 ** attempt);
}

/**
 * Posts with retries: attempts that may succeed later (timeouts, network
 * errors, 5xx, 408, 429) are retried after a capped, doubling backoff; the
 * last error is thrown. `sleep` rejects when the notifier stops.
 */
export async function deliver(
  send: () => Promise<void>,
  policy: RetryPolicy,
  sleep: (ms: number) => Promise<void>,
): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      await send();
      return attempt + 1;
    } catch (err) {
      const retry = err instanceof DeliveryError ? err.retry : true;
      if (!retry || attempt + 1 >= policy.attempts) throw err;
      await sleep(backoffMs(policy, attempt));
    }
  }
}
