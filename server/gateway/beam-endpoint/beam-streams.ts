import type { Http2Session } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Fleet } from "../fleet/fleet.js";
import type { FleetWorker } from "../fleet/fleet-worker.js";
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
 * Who may hold which Beam worker id. One live stream per id: a second one is
 * refused while the first is healthy; a reconnect after the first stream
 * died (or missed its pings) takes over, and the old stream is ended. A Beam
 * harness never takes the id of an agent or a static worker (kinds never
 * overwrite each other). A harness without a `worker_id` header is keyed
 * `peer:<address>`.
 */
export class BeamStreams {
  private readonly byId = new Map<string, BeamStreamHandle>();
  private readonly perSession = new WeakMap<Http2Session, number>();

  constructor(
    private readonly fleet: Fleet,
    private readonly limits: BeamStreamLimits,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): BeamStreamHandle | undefined {
    return this.byId.get(id);
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

  /**
   * Checks caps and ownership for `id`; returns the stream it replaces (to be
   * aborted by the caller once the new one is registered), if any.
   */
  check(id: string, session: Http2Session | undefined): BeamStreamHandle | undefined {
    const existing = this.fleet.get(id);
    if (existing && existing.kind !== "beam")
      throw new BeamRefused(
        `worker id "${id}" belongs to ${existing.kind === "spark" ? "a static Spark worker" : "a Stallwatch agent"}; a Beam harness cannot take it`,
        Code.AlreadyExists,
        "kind_conflict",
      );
    const live = this.byId.get(id);
    if (live && existing && stillAlive(existing))
      throw new BeamRefused(
        `worker id "${id}" is bound to a live Beam status stream from ${live.peer}`,
        Code.AlreadyExists,
        "duplicate_id",
      );
    if (!live && this.byId.size >= this.limits.maxStreams)
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
    return live;
  }

  add(handle: BeamStreamHandle): void {
    this.byId.set(handle.workerId, handle);
    if (handle.session)
      this.perSession.set(handle.session, (this.perSession.get(handle.session) ?? 0) + 1);
  }

  /** Releases `handle`'s claim (only if it still holds the id); true when it did. */
  remove(handle: BeamStreamHandle): boolean {
    if (handle.session)
      this.perSession.set(
        handle.session,
        Math.max(0, (this.perSession.get(handle.session) ?? 1) - 1),
      );
    if (this.byId.get(handle.workerId) !== handle) return false;
    this.byId.delete(handle.workerId);
    return true;
  }
}

/** Healthy (or not yet judged): its stream still answers pings. */
function stillAlive(worker: FleetWorker): boolean {
  const state = worker.liveness.current.state;
  return state === "healthy" || state === "pending" || state === "draining";
}
