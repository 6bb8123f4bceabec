import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { Logger } from "../../shared/logging/logger.js";
import { formatHostPort, type HostPort } from "../../shared/net/host-port.js";
import { sleep, withTimeout, type Clock } from "../../shared/clock/clock.js";
import { Backoff, type BackoffOptions } from "./backoff.js";

/**
 * HTTP/2 keepalive on the long-lived stream: without it a gateway that
 * vanished without a FIN/RST (machine gone, blackholed connection) would
 * leave us "connected" forever. A dead link is noticed within about
 * interval + timeout.
 */
const PING_INTERVAL_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;
/** A connection up this long resets the backoff when it ends. */
const STABLE_AFTER_MS = 5_000;

/** What every dial-out client (the agent, Beam mode) takes for its link. */
export interface DialOutOptions {
  /** Reconnect pacing (default 250 ms → 10 s, ±20%). */
  backoff?: BackoffOptions;
  /** Time for reconnect waits, answer deadlines and the stop bound (default: real). */
  clock: Clock;
  /** Longest `stop()` waits for the current connection to wind down (default 2000). */
  stopTimeoutMs?: number;
}

export interface StreamLinkOptions extends DialOutOptions {
  /** What we dial, for logs, e.g. "gateway agent endpoint". */
  peer: string;
  address: HostPort;
  log: Logger;
  /**
   * One connection's whole life: opens the stream on `transport`, calls `up`
   * once the peer has shown it is talking to us, and settles when the stream
   * ends (resolving with the reason, or rejecting with the error). Must
   * return promptly once `signal` aborts.
   */
  run(transport: Transport, signal: AbortSignal, up: () => void): Promise<string>;
}

/** A stream kept open against one peer; see {@link startStreamLink}. */
export interface StreamLink {
  /** True between the peer's first message and the stream's end. */
  readonly connected: boolean;
  /** Ends the stream and stops reconnecting. Never rejects; bounded by `stopTimeoutMs`; idempotent. */
  stop(): Promise<void>;
}

/**
 * Keeps one gRPC stream open to `address` for as long as it runs: when the
 * stream ends or cannot be opened it reconnects after a jittered exponential
 * backoff (reset when a connection that lasted ends), forever until `stop()`.
 * Logs every connect and disconnect with its reason; repeated identical
 * failures while the peer is down are logged at debug so an outage does not
 * flood the log. Nothing it does throws into the caller.
 */
export function startStreamLink(opts: StreamLinkOptions): StreamLink {
  const { log, peer } = opts;
  const clock = opts.clock;
  const address = formatHostPort(opts.address);
  const baseUrl = `http://${address}`;
  // Our own session manager so stop() can close the HTTP/2 connection at once
  // (an open socket would otherwise keep the process alive).
  const sessions = new Http2SessionManager(baseUrl, {
    pingIntervalMs: PING_INTERVAL_MS,
    pingTimeoutMs: PING_TIMEOUT_MS,
  });
  const transport = createGrpcTransport({ baseUrl, sessionManager: sessions });
  const backoff = new Backoff(opts.backoff);
  const stopping = new AbortController();
  // A function, so TypeScript does not narrow it across the awaits below.
  const isStopping = () => stopping.signal.aborted;
  const state = { up: false };
  let lastFailure = "";

  const loop = (async () => {
    let attempt = 0;
    while (!isStopping()) {
      attempt += 1;
      // An object, not a let: TypeScript cannot see the callback set it.
      const round = { upAtMs: 0 };
      const up = () => {
        if (state.up || isStopping()) return;
        state.up = true;
        round.upAtMs = clock.now();
        lastFailure = "";
        log.info({ peer, address, attempt }, `connected to the ${peer}`);
        attempt = 0;
      };
      let reason: string;
      try {
        reason = await opts.run(transport, stopping.signal, up);
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      state.up = false;
      if (isStopping()) break;
      // Only a connection that lasted earns a quick retry: one the peer keeps
      // dropping right after it opens must not become a reconnect storm.
      const upForMs = round.upAtMs > 0 ? clock.now() - round.upAtMs : 0;
      if (upForMs >= STABLE_AFTER_MS) backoff.reset();
      const retryInMs = backoff.next();
      if (round.upAtMs > 0) {
        log.warn(
          { peer, address, reason, upForMs, retryInMs },
          `disconnected from the ${peer}; reconnecting`,
        );
      } else if (reason !== lastFailure) {
        lastFailure = reason;
        log.warn(
          { peer, address, reason, retryInMs, attempt },
          `could not connect to the ${peer}; retrying`,
        );
      } else {
        log.debug(
          { peer, address, reason, retryInMs, attempt },
          `still cannot connect to the ${peer}`,
        );
      }
      await sleep(clock, retryInMs, stopping.signal);
    }
  })().catch((err: unknown) => {
    // Unreachable by construction (every step above catches); kept so a bug
    // here can never surface as an unhandled rejection in the worker.
    log.error({ peer, err }, "stream link loop failed");
  });

  let stopped: Promise<void> | undefined;
  return {
    get connected() {
      return state.up;
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        await withTimeout(loop, opts.stopTimeoutMs ?? 2000, clock);
        sessions.abort();
        state.up = false;
        log.info({ peer, address }, `stopped talking to the ${peer}`);
      })().catch(() => undefined);
      return stopped;
    },
  };
}
