import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { sql, type Kysely } from "kysely";
import { AuditRecordSchema } from "../../../gen/stallwatch/v1/control_pb.js";
import {
  DryRunOverrideSchema,
  PolicyDecisionSchema,
  PolicyOutcome,
  type PolicyDecision,
} from "../../../gen/stallwatch/v1/policy_pb.js";
import { bytes } from "./action-rows.js";
import type { Transact } from "./connect.js";
import type { PolicyStore, PolicyTally } from "./policy-store.js";
import type { StoreDialect, StoreTables } from "./schema.js";

type Guard = <T>(what: string, fn: () => Promise<T>) => Promise<T>;
type Db = Kysely<StoreTables>;

/** Advisory lock class for policy caps ("poli"); the key within it is the policy name's hash. */
const POLICY_LOCK_CLASS = 0x706f6c69;
const MAX_LIST = 500;

const decode = (row: { body: Uint8Array }) => fromBinary(PolicyDecisionSchema, row.body);

/** Policy decisions and the dry-run switch, on either dialect. */
export function createPolicyRows(
  db: Db,
  transact: Transact,
  guard: Guard,
  dialect: StoreDialect,
  gatewayId?: string,
): PolicyStore {
  const row = (d: PolicyDecision) => ({
    decision_id: d.decisionId,
    policy: d.policy,
    outcome: d.outcome,
    at_ms: Number(d.atMs),
    worker_id: d.workerId,
    action_id: d.actionId,
    gateway_id: gatewayId ?? null,
    body: bytes(toBinary(PolicyDecisionSchema, d)),
  });
  const find = async (trx: Db, id: string) => {
    const found = await trx
      .selectFrom("policy_decisions")
      .select("body")
      .where("decision_id", "=", id)
      .executeTakeFirst();
    return found ? decode(found) : undefined;
  };
  /** Inserts unless the id exists; returns what is stored under it and whether this call wrote it. */
  const insertOnce = async (trx: Db, d: PolicyDecision) => {
    const existing = await find(trx, d.decisionId);
    if (existing) return { decision: existing, fresh: false };
    await trx
      .insertInto("policy_decisions")
      .values(row(d))
      .onConflict((oc) => oc.column("decision_id").doNothing())
      .execute();
    return { decision: d, fresh: true };
  };

  return {
    async recordDecision(decision, cap) {
      return guard("record policy decision", () =>
        transact(async (trx) => {
          // SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL
          // gateways take turns per policy, so two never both see room
          // under the cap and both act.
          if (dialect === "postgres")
            await sql`SELECT pg_advisory_xact_lock(${POLICY_LOCK_CLASS}, hashtext(${decision.policy}))`.execute(
              trx,
            );
          const existing = await find(trx, decision.decisionId);
          if (existing) return { decision: existing, fresh: false };
          if (cap) {
            const acted = await trx
              .selectFrom("policy_decisions")
              .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
              .where("policy", "=", decision.policy)
              .where("outcome", "=", cap.counted)
              .where("at_ms", ">", Number(decision.atMs) - cap.windowMs)
              .executeTakeFirst();
            if (Number(acted?.n ?? 0) >= cap.maxActions) return insertOnce(trx, cap.skipped);
          }
          return insertOnce(trx, decision);
        }),
      );
    },

    async updateDecision(decision) {
      await guard("update policy decision", () =>
        db
          .updateTable("policy_decisions")
          .set({
            outcome: decision.outcome,
            action_id: decision.actionId,
            body: bytes(toBinary(PolicyDecisionSchema, decision)),
          })
          .where("decision_id", "=", decision.decisionId)
          .execute(),
      );
    },

    async listDecisions({ policy, limit, beforeMs }) {
      let q = db.selectFrom("policy_decisions").select("body");
      if (policy) q = q.where("policy", "=", policy);
      if (beforeMs) q = q.where("at_ms", "<", beforeMs);
      const rows = await guard("list policy decisions", () =>
        q
          .orderBy("at_ms", "desc")
          .limit(Math.max(1, Math.min(MAX_LIST, Math.floor(limit) || 1)))
          .execute(),
      );
      return rows.map(decode);
    },

    async tallyPolicies(windows) {
      const tallies = new Map<string, PolicyTally>();
      if (windows.length === 0) return tallies;
      const names = windows.map((w) => w.policy);
      const rows = await guard("count policy decisions", () =>
        db
          .selectFrom("policy_decisions")
          .select((eb) => [
            "policy",
            "outcome",
            eb.fn.countAll<number | string | bigint>().as("n"),
            eb.fn.max("at_ms").as("last"),
          ])
          .where("policy", "in", names)
          .groupBy(["policy", "outcome"])
          .execute(),
      );
      for (const w of windows)
        tallies.set(w.policy, { byOutcome: new Map(), lastAtMs: 0, actedInWindow: 0 });
      for (const r of rows) {
        const tally = tallies.get(r.policy);
        if (!tally) continue;
        tally.byOutcome.set(r.outcome, Number(r.n));
        // PostgreSQL answers MAX(bigint) as text, whatever Kysely's type says.
        const last: unknown = r.last;
        tally.lastAtMs = Math.max(tally.lastAtMs, Number(last ?? 0));
      }
      for (const w of windows) {
        const acted = await guard("count policy actions", () =>
          db
            .selectFrom("policy_decisions")
            .select((eb) => eb.fn.countAll<number | string | bigint>().as("n"))
            .where("policy", "=", w.policy)
            .where("outcome", "=", PolicyOutcome.ACTED)
            .where("at_ms", ">", w.sinceMs)
            .executeTakeFirst(),
        );
        const tally = tallies.get(w.policy);
        if (tally) tally.actedInWindow = Number(acted?.n ?? 0);
      }
      return tallies;
    },

    async listUnstartedDecisions() {
      const rows = await guard("list unstarted policy decisions", () =>
        db
          .selectFrom("policy_decisions")
          .select("body")
          .where("outcome", "=", PolicyOutcome.ACTED)
          .where((eb) =>
            gatewayId === undefined
              ? eb("gateway_id", "is", null)
              : eb.or([eb("gateway_id", "is", null), eb("gateway_id", "=", gatewayId)]),
          )
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom("actions")
                  .select("actions.action_id")
                  .whereRef("actions.action_id", "=", "policy_decisions.action_id"),
              ),
            ),
          )
          .orderBy("at_ms")
          .limit(MAX_LIST)
          .execute(),
      );
      return rows.map(decode);
    },

    async failUnstarted(decision) {
      const result = await guard("fail unstarted policy decision", () =>
        db
          .updateTable("policy_decisions")
          .set({
            outcome: decision.outcome,
            body: bytes(toBinary(PolicyDecisionSchema, decision)),
          })
          .where("decision_id", "=", decision.decisionId)
          .where("outcome", "=", PolicyOutcome.ACTED)
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom("actions")
                  .select("actions.action_id")
                  .where("actions.action_id", "=", decision.actionId),
              ),
            ),
          )
          .executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },

    async getDryRunOverride() {
      const found = await guard("read dry-run switch", () =>
        db.selectFrom("policy_override").select("body").where("id", "=", 1).executeTakeFirst(),
      );
      return found ? fromBinary(DryRunOverrideSchema, found.body) : undefined;
    },

    async setDryRunOverride(override, audit) {
      const body = bytes(toBinary(DryRunOverrideSchema, override));
      const atMs = Number(override.atMs);
      await guard("write dry-run switch", () =>
        transact(async (trx) => {
          await trx
            .insertInto("policy_override")
            .values({ id: 1, at_ms: atMs, body })
            .onConflict((oc) => oc.column("id").doUpdateSet({ at_ms: atMs, body }))
            .execute();
          await trx
            .insertInto("audit")
            .values({
              id: audit.id,
              at_ms: Number(audit.atMs),
              actor: audit.actor,
              kind: audit.kind,
              worker_id: audit.workerId,
              body: bytes(toBinary(AuditRecordSchema, audit)),
            })
            .execute();
        }),
      );
    },
  };
}
