import type { Http2Session } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { BeamRefusal } from "./beam-metrics.js";

/** One live Beam status stream, as the registry knows it. */
export interface BeamStreamHandle {
  workerId: string;
  peer: string;
  session: Http2Session | undefined;
  openedAtMs: number;
  /** Ends the stream (its handler throws `Aborted` with this reason). */
  abort(reason: string): void;
}

export interface BeamStreamLimits {
  /** Open Beam streams, gateway-wide. */
  maxStreams: number;
  /** Open Beam streams on one HTTP/2 connection (a harness needs one). */
  maxStreamsPerConnection: number;
}

export class BeamRefused extends ConnectError {
  constructor(
    message: string,
    code: Code,
    readonly reason: BeamRefusal,
  ) {
    super(message, code);
  }
}

/** Printable ASCII, short: ids are shown, logged and used as keys. */
const ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

/**
 * The Beam streams open on this gateway, for their caps: streams overall and
 * per HTTP/2 connection. Who may hold which id is not decided here but by
 * the gateway's one WorkerOwnership (fleet/ownership.ts), shared with the
 * agent endpoint. A harness without a `worker_id` header is keyed
 * `peer:<address>`.
 */
export class BeamStreams {
  private readonly byId = new Map<string, BeamStreamHandle>();
  private readonly perSession = new WeakMap<Http2Session, number>();

  constructor(private readonly limits: BeamStreamLimits) {}

  get size(): number {
    return this.byId.size;
  }

  /** The id a stream asks for; throws `BeamRefused` when it may not have one. */
  static idFor(header: string | null, peer: string): { id: string; fromPeer: boolean } {
    const h = header?.trim();
    if (h === undefined || h === "") return { id: `peer:${peer}`, fromPeer: true };
    if (!ID_PATTERN.test(h))
      throw new BeamRefused(
        "worker_id must be 1-200 printable ASCII characters",
        Code.InvalidArgument,
        "bad_id",
      );
    return { id: h, fromPeer: false };
  }

  /** Throws `BeamRefused` when one more stream for `id` on `session` would pass a cap. */
  checkCaps(id: string, session: Http2Session | undefined): void {
    if (!this.byId.has(id) && this.byId.size >= this.limits.maxStreams)
      throw new BeamRefused(
        `too many Beam status streams (cap ${this.limits.maxStreams})`,
        Code.ResourceExhausted,
        "streams_cap",
      );
    if (session && (this.perSession.get(session) ?? 0) >= this.limits.maxStreamsPerConnection)
      throw new BeamRefused(
        `too many Beam status streams on one connection (cap ${this.limits.maxStreamsPerConnection})`,
        Code.ResourceExhausted,
        "connection_cap",
      );
  }

  add(handle: BeamStreamHandle): void {
    this.byId.set(handle.workerId, handle);
    if (handle.session)
      this.perSession.set(handle.session, (this.perSession.get(handle.session) ?? 0) + 1);
  }

  remove(handle: BeamStreamHandle): void {
    if (handle.session)
      this.perSession.set(
        handle.session,
        Math.max(0, (this.perSession.get(handle.session) ?? 1) - 1),
      );
    if (this.byId.get(handle.workerId) === handle) this.byId.delete(handle.workerId);
  }
}
