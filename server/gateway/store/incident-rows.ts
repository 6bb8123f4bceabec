import type { Kysely } from "kysely";
import type { Transact } from "./connect.js";
import { MAX_CAUSE_CHARS, MAX_INCIDENT_CAUSES, type IncidentStore } from "./incident-store.js";
import type { StoreTables } from "./schema.js";

type Guard = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

/** Causes as stored: bounded in count and length, duplicates removed, order kept. */
function bounded(causes: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const c of causes) {
    if (out.size >= MAX_INCIDENT_CAUSES) break;
    out.add(c.slice(0, MAX_CAUSE_CHARS));
  }
  return [...out];
}

/** Stored JSON from an older or damaged row reads as no causes, never a crash. */
function parse(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? bounded(value.filter((c) => typeof c === "string")) : [];
  } catch {
    return [];
  }
}

/**
 * The open-incident rows. Opening is an insert that does nothing on a
 * conflict and closing a delete, so when two gateways race (a takeover),
 * the database picks the one that announces.
 */
export function createIncidentRows(
  db: Kysely<StoreTables>,
  transact: Transact,
  guard: Guard,
): IncidentStore {
  return {
    async openIncident(workerId, cause, atMs) {
      return guard("open incident", () =>
        transact(async (trx) => {
          const inserted = await trx
            .insertInto("incidents")
            .values({
              worker_id: workerId,
              causes: JSON.stringify(bounded([cause])),
              opened_at_ms: atMs,
              updated_at_ms: atMs,
            })
            .onConflict((oc) => oc.column("worker_id").doNothing())
            .executeTakeFirst();
          if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0)
            return { opened: true, causes: bounded([cause]) };
          const row = await trx
            .selectFrom("incidents")
            .select("causes")
            .where("worker_id", "=", workerId)
            .executeTakeFirst();
          const causes = bounded([...parse(row?.causes ?? "[]"), cause]);
          await trx
            .updateTable("incidents")
            .set({ causes: JSON.stringify(causes), updated_at_ms: atMs })
            .where("worker_id", "=", workerId)
            .execute();
          return { opened: false, causes };
        }),
      );
    },

    async getIncident(workerId) {
      const row = await guard("read incident", () =>
        db
          .selectFrom("incidents")
          .select("causes")
          .where("worker_id", "=", workerId)
          .executeTakeFirst(),
      );
      return row ? parse(row.causes) : undefined;
    },

    async setIncidentCauses(workerId, causes, atMs) {
      await guard("update incident", () =>
        db
          .updateTable("incidents")
          .set({ causes: JSON.stringify(bounded(causes)), updated_at_ms: atMs })
          .where("worker_id", "=", workerId)
          .execute(),
      );
    },

    async closeIncident(workerId) {
      const deleted = await guard("close incident", () =>
        db.deleteFrom("incidents").where("worker_id", "=", workerId).executeTakeFirst(),
      );
      return Number(deleted.numDeletedRows) > 0;
    },
  };
}
