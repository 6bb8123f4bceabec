import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  formatHostPort,
  isLoopbackHost,
  isWildcardHost,
  parseHostPort,
} from "../../shared/net/host-port.js";
import type { Clock } from "../../shared/clock/clock.js";

/** Why an agent was refused; a closed set, used as the /metrics label. */
export type RefusalReason =
  | "token"
  | "not_loopback"
  | "announce"
  | "address"
  | "id_in_use"
  | "kind"
  | "cap_total"
  | "cap_connection"
  | "rate"
  | "memory"
  | "busy"
  | "unsolicited"
  | "oversized"
  | "no_answer";

/** A refusal: the gRPC status the peer gets and the label /metrics counts. */
export class AgentRefusal extends ConnectError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    code: Code,
  ) {
    super(message, code);
  }
}

export interface AdmissionOptions {
  /** The fleet's agent token; without one only loopback peers may connect. */
  agentToken?: string;
  /** Accept a Manage address on another host than the peer (behind NAT, sidecars). */
  trustAnnouncedAddress: boolean;
  /** Agent streams open at once, fleet-wide. */
  maxAgents: number;
  /** Agent streams on one HTTP/2 connection (a real agent uses one). */
  maxAgentsPerConnection: number;
  /** New agent streams admitted per second, fleet-wide (burst: twice this). */
  maxNewAgentsPerSecond: number;
  /**
   * Bytes all agent streams not yet joined may hold together (a fixed cost per
   * stream plus what each sent): see `PendingMemory`.
   */
  maxPendingBytes: number;
  /** Agent streams admitted per event-loop turn; the rest wait for the next (see AdmissionPacer). */
  admissionsPerTurn: number;
  /** Agent streams that may wait for their turn; more are refused. */
  maxWaitingAdmissions: number;
}

export const DEFAULT_ADMISSION: Omit<AdmissionOptions, "agentToken"> = {
  trustAnnouncedAddress: false,
  maxAgents: 10_000,
  maxAgentsPerConnection: 4,
  maxNewAgentsPerSecond: 200,
  maxPendingBytes: 64 << 20,
  admissionsPerTurn: 32,
  maxWaitingAdmissions: 2_000,
};

/** The header an agent sends its token in: `authorization: Bearer <token>`. */
export const AGENT_TOKEN_HEADER = "authorization";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * Who may open an agent stream, checked before the stream costs anything:
 * the token (constant time), loopback-only without one, and the rate of new
 * streams. Counting open streams is {@link AgentSlots}' job.
 */
export class AgentAdmission {
  private readonly tokenDigest: Buffer | undefined;
  private tokens: number;
  private refilledAtMs: number;

  constructor(
    readonly opts: AdmissionOptions,
    private readonly clock: Pick<Clock, "monotonic">,
  ) {
    this.tokenDigest = opts.agentToken ? digest(opts.agentToken) : undefined;
    this.tokens = opts.maxNewAgentsPerSecond * 2;
    this.refilledAtMs = clock.monotonic();
  }

  /** Throws an {@link AgentRefusal} unless this peer may open an agent stream now. */
  admit(peerHost: string, authorization: string | null): void {
    if (this.tokenDigest) {
      const presented = /^Bearer (.+)$/i.exec(authorization ?? "")?.[1] ?? "";
      // Hashing first makes the comparison length-independent as well.
      if (!timingSafeEqual(digest(presented), this.tokenDigest))
        throw new AgentRefusal(
          "token",
          "agent token missing or wrong (send authorization: Bearer <--agent-token>)",
          Code.Unauthenticated,
        );
    } else if (!isLoopbackHost(peerHost)) {
      throw new AgentRefusal(
        "not_loopback",
        "this gateway has no --agent-token, so it accepts agents from loopback only",
        Code.PermissionDenied,
      );
    }
    const t = this.clock.monotonic();
    const rate = this.opts.maxNewAgentsPerSecond;
    this.tokens = Math.min(rate * 2, this.tokens + ((t - this.refilledAtMs) / 1000) * rate);
    this.refilledAtMs = t;
    if (this.tokens < 1)
      throw new AgentRefusal(
        "rate",
        `too many new agent streams (over ${rate}/s); retry with backoff`,
        Code.ResourceExhausted,
      );
    this.tokens -= 1;
  }

  /**
   * The Manage address to probe for an announced one: a wildcard host
   * (0.0.0.0, ::) becomes the peer's host; another host than the peer is
   * refused unless announced addresses are trusted. Empty stays empty.
   */
  manageAddress(announced: string, peerHost: string): string {
    if (announced === "") return "";
    let parsed;
    try {
      parsed = parseHostPort(announced);
    } catch (err) {
      throw new AgentRefusal(
        "announce",
        `Announce.manage_address: ${(err as Error).message}`,
        Code.InvalidArgument,
      );
    }
    if (isWildcardHost(parsed.host)) return formatHostPort({ host: peerHost, port: parsed.port });
    if (this.opts.trustAnnouncedAddress || sameHost(parsed.host, peerHost))
      return formatHostPort(parsed);
    throw new AgentRefusal(
      "address",
      `Announce.manage_address ${announced} is on another host than the agent (${peerHost}); ` +
        "start the worker with --advertise, or the gateway with --trust-announced-address",
      Code.PermissionDenied,
    );
  }
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  // Loopback spellings are one host; a worker on this machine may say localhost.
  return isLoopbackHost(a) && isLoopbackHost(b);
}

/** Counts open agent streams, fleet-wide and per HTTP/2 connection. */
export class AgentSlots {
  private total = 0;
  private readonly perConnection = new WeakMap<object, number>();

  constructor(
    private readonly opts: Pick<AdmissionOptions, "maxAgents" | "maxAgentsPerConnection">,
  ) {}

  get open(): number {
    return this.total;
  }

  /** Takes a slot for a stream on `connection`; returns its release function. */
  take(connection: object | undefined): () => void {
    if (this.total >= this.opts.maxAgents)
      throw new AgentRefusal(
        "cap_total",
        `the gateway already has ${this.opts.maxAgents} agent streams (--max-agents)`,
        Code.ResourceExhausted,
      );
    const onConn = connection ? (this.perConnection.get(connection) ?? 0) : 0;
    if (connection && onConn >= this.opts.maxAgentsPerConnection)
      throw new AgentRefusal(
        "cap_connection",
        `at most ${this.opts.maxAgentsPerConnection} agent streams per connection`,
        Code.ResourceExhausted,
      );
    this.total += 1;
    if (connection) this.perConnection.set(connection, onConn + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      if (connection)
        this.perConnection.set(
          connection,
          Math.max(0, (this.perConnection.get(connection) ?? 1) - 1),
        );
    };
  }
}
