import { Code, type HandlerContext } from "@connectrpc/connect";
import type { Logger } from "../../shared/logging/logger.js";
import { peerAddressKey, proveStreamAlive } from "../../shared/net/peer-address.js";
import type { FleetReader } from "../fleet/fleet-reader.js";
import type { ClusterOwnership, StreamHolder, WorkerOwnership } from "../fleet/ownership.js";
import type { BeamMetrics } from "./beam-metrics.js";
import { BeamRefused, BeamStreams, type BeamStreamHandle } from "./beam-streams.js";
import { http2SessionKey, http2StreamKey } from "./stream-context.js";

export interface BeamAdmissionDeps {
  fleet: FleetReader;
  streams: BeamStreams;
  /** Who speaks for each worker id on this gateway (shared with the agent endpoint). */
  ownership: WorkerOwnership;
  /** Cluster-wide claim on the worker id, asked first (server/gateway/cluster). */
  clusterOwnership?: ClusterOwnership;
  /** Records a fleet event about a harness's identity. */
  onEvent(workerId: string, summary: string): void;
  metrics?: BeamMetrics;
  log: Logger;
}

/** An admitted stream: its id and the claim to let go of when it ends. */
export interface Admitted {
  id: string;
  holder: StreamHolder;
}

/**
 * Decides whether a new status stream may speak for the id it asks for: a
 * well-formed id, within the stream caps, granted by the gateway's ownership
 * rules (kinds never overwrite each other; a live holder keeps its id; one
 * that cannot prove it is alive is taken over and its stream ended), and then
 * not held by another gateway of the cluster. A refusal throws
 * `BeamRefused` after its log line, count and (for identity) event.
 */
export async function admitBeamStream(
  deps: BeamAdmissionDeps,
  context: HandlerContext,
  handle: Omit<BeamStreamHandle, "workerId">,
): Promise<Admitted> {
  const peer = context.values.get(peerAddressKey);
  const header = context.requestHeader.get("worker_id");
  try {
    const asked = BeamStreams.idFor(header, peer);
    const id = asked.id;
    deps.streams.checkCaps(id, context.values.get(http2SessionKey));
    const h2stream = context.values.get(http2StreamKey);
    const holder: StreamHolder = {
      kind: "beam",
      peer,
      proveAlive: (timeoutMs) => proveStreamAlive(h2stream, timeoutMs),
      evict: (reason) => handle.abort(reason),
    };
    const existing = deps.fleet.get(id);
    const claim = await deps.ownership.claim(
      id,
      holder,
      existing && { kind: existing.kind, address: existing.address },
    );
    if (!claim.granted)
      throw new BeamRefused(
        claim.reason,
        Code.AlreadyExists,
        existing && existing.kind !== "beam" ? "kind_conflict" : "duplicate_id",
      );
    // The cluster is asked only once this gateway's own rules granted the id
    // (as for agents): a stream refused here must not leave the cluster row
    // pointing at this gateway, which would lock the id out of the others.
    if (deps.clusterOwnership && !(await deps.clusterOwnership.claim(id))) {
      deps.ownership.release(id, holder);
      throw new BeamRefused(
        `worker id "${id}" is connected to another gateway of this cluster`,
        Code.AlreadyExists,
        "duplicate_id",
      );
    }
    if (claim.tookOverFrom)
      deps.onEvent(
        id,
        `Beam stream from ${peer} took over from ${claim.tookOverFrom.peer}, whose stream had stopped answering`,
      );
    if (asked.fromPeer) {
      deps.log.warn(
        { worker: id, peer },
        "beam harness sent no worker_id header; keyed by its peer address",
      );
      deps.onEvent(id, `Beam harness at ${peer} sent no worker_id header: keyed by its address`);
    }
    return { id, holder };
  } catch (err) {
    if (!(err instanceof BeamRefused)) throw err;
    if (err.reason === "duplicate_id" || err.reason === "kind_conflict")
      deps.onEvent(header ?? peer, `Beam stream from ${peer} refused: ${err.rawMessage}`);
    deps.metrics?.refusal(err.reason);
    deps.log.warn(
      { peer, workerId: header, reason: err.reason, err: err.rawMessage },
      "beam status stream refused",
    );
    throw err;
  }
}
