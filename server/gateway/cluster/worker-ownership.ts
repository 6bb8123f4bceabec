import type { Store } from "../store/store.js";

/**
 * Who may hold a dial-in worker id (an agent's or a Beam harness's) across
 * gateways. A gateway asks before adopting a stream's worker id, and lets go
 * when the stream ends. The gateway's own per-process check (one live
 * stream per id) still runs first; this one spans the cluster.
 */
export interface WorkerOwnership {
  /**
   * Takes `workerId` for this gateway. Resolves false when another live
   * gateway holds it (the stream is refused with AlreadyExists); true when
   * it was free, held by this gateway, or held by a gateway whose lease ran out.
   */
  claim(workerId: string): Promise<boolean>;
  /** Lets go of `workerId` if this gateway holds it. */
  release(workerId: string): Promise<void>;
  /** Lets go of everything this gateway holds (clean shutdown). */
  releaseAll(): Promise<void>;
}

/** For a lone gateway: its own process-local check is the whole truth. */
export const localOnlyOwnership: WorkerOwnership = {
  claim: () => Promise.resolve(true),
  release: () => Promise.resolve(),
  releaseAll: () => Promise.resolve(),
};

/**
 * One row per worker id in `worker_owners` (the primary key makes two owners
 * impossible). A claim is a single upsert that only takes the row over when
 * the current holder is this gateway or no longer has a live lease, so two
 * gateways racing for one id cannot both win.
 */
export function createClusterOwnership(
  store: Pick<Store, "db" | "guard">,
  gatewayId: string,
  now: () => number = Date.now,
): WorkerOwnership {
  return {
    async claim(workerId) {
      const at = now();
      const row = await store.guard("claim worker id", () =>
        store.db
          .insertInto("worker_owners")
          .values({ worker_id: workerId, gateway_id: gatewayId, claimed_at_ms: at })
          .onConflict((oc) =>
            oc
              .column("worker_id")
              .doUpdateSet({ gateway_id: gatewayId, claimed_at_ms: at })
              .where((eb) =>
                eb.or([
                  eb("worker_owners.gateway_id", "=", gatewayId),
                  eb.not(
                    eb.exists(
                      eb
                        .selectFrom("gateways")
                        .select("gateways.gateway_id")
                        .whereRef("gateways.gateway_id", "=", "worker_owners.gateway_id")
                        .where("gateways.lease_until_ms", ">", at),
                    ),
                  ),
                ]),
              ),
          )
          .returning("gateway_id")
          .executeTakeFirst(),
      );
      return row?.gateway_id === gatewayId;
    },

    async release(workerId) {
      await store.guard("release worker id", () =>
        store.db
          .deleteFrom("worker_owners")
          .where("worker_id", "=", workerId)
          .where("gateway_id", "=", gatewayId)
          .execute(),
      );
    },

    async releaseAll() {
      await store.guard("release worker ids", () =>
        store.db.deleteFrom("worker_owners").where("gateway_id", "=", gatewayId).execute(),
      );
    },
  };
}
