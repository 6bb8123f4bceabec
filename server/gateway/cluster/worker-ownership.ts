import type { Clock } from "../../shared/clock/clock.js";
import type { ClusterOwnership } from "../fleet/ownership.js";
import type { Store } from "../store/store.js";

/**
 * One row per worker id in `worker_owners` (the primary key makes two owners
 * impossible). A claim is a single upsert that only takes the row over when
 * the current holder is this gateway or no longer has a live lease, so two
 * gateways racing for one id cannot both win.
 */
export function createClusterOwnership(
  store: Pick<Store, "db" | "guard">,
  gatewayId: string,
  clock: Pick<Clock, "now">,
): ClusterOwnership {
  return {
    async claim(workerId) {
      const at = clock.now();
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
