import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  ActionKind,
  ActionStatus,
  AuditRecordSchema,
} from "../../../gen/stallwatch/v1/control_pb.js";
import {
  DryRunOverrideSchema,
  ListPoliciesResponseSchema,
  ListPolicyDecisionsResponseSchema,
  PolicyCountsSchema,
  PolicyMatchSchema,
  PolicyOutcome,
  PolicySchema,
  PolicyService,
  SetDryRunOverrideResponseSchema,
} from "../../../gen/stallwatch/v1/policy_pb.js";
import { WorkerKind } from "../../../gen/stallwatch/v1/fleet_pb.js";
import type { Clock } from "../../shared/clock/clock.js";
import { requireOperator, type AuthConfig } from "../auth/caller.js";
import type { EventInit } from "../events/event-log.js";
import type { PolicyStore } from "../store/policy-store.js";
import type { PolicyEngine } from "./policy-engine.js";
import { summarize } from "./policy-spec.js";

export interface PolicyServiceDeps {
  /** The policies are the engine's (`engine.specs`), current after a reload. */
  engine: PolicyEngine;
  store: PolicyStore;
  auth: AuthConfig;
  clock: Clock;
  record: (event: EventInit) => void;
  /** Where the policies came from, e.g. "--policy-file /etc/stallwatch/policies.yaml"; "" for none. */
  source: string;
}

const KINDS: Record<string, WorkerKind> = {
  spark: WorkerKind.SPARK,
  beam: WorkerKind.BEAM,
  agent: WorkerKind.AGENT,
};
const MAX_REASON = 1000;

/**
 * The policies, their decisions, and the dry-run switch, for the browser.
 * Counts come from the store, so in a cluster every gateway answers with
 * every gateway's decisions.
 */
export function createPolicyService(deps: PolicyServiceDeps): ServiceImpl<typeof PolicyService> {
  const { store, engine, clock } = deps;
  return {
    async listPolicies() {
      const nowMs = clock.now();
      const specs = engine.specs;
      const tallies = await store.tallyPolicies(
        specs.map((s) => ({ policy: s.name, sinceMs: nowMs - s.windowMs })),
      );
      const override = (await store.getDryRunOverride()) ?? engine.dryRunOverride;
      if (override) engine.overrideChanged(override);
      const policies = specs.map((spec) => {
        const tally = tallies.get(spec.name);
        const n = (outcome: PolicyOutcome) => BigInt(tally?.byOutcome.get(outcome) ?? 0);
        const counts = create(PolicyCountsSchema, {
          wouldHaveActed: n(PolicyOutcome.WOULD_ACT),
          acted: n(PolicyOutcome.ACTED),
          skippedCap: n(PolicyOutcome.SKIPPED_CAP),
          failed: n(PolicyOutcome.FAILED),
          actionsInWindow: tally?.actedInWindow ?? 0,
        });
        counts.matches = counts.wouldHaveActed + counts.acted + counts.skippedCap + counts.failed;
        return create(PolicySchema, {
          name: spec.name,
          configuredMode: spec.mode,
          effectiveMode: engine.effectiveMode(spec),
          match: create(PolicyMatchSchema, {
            sessionStates: spec.match.sessionStates,
            inStateForMs: BigInt(spec.match.inStateForMs),
            noProgressForMs: BigInt(spec.match.noProgressForMs),
            threadNotMovingForMs: BigInt(spec.match.threadNotMovingForMs),
            workerKinds: spec.match.workerKinds.map((k) => KINDS[k] ?? WorkerKind.UNSPECIFIED),
            selector: spec.match.selectorText,
            matchAllAllowed: spec.allowMatchAll,
          }),
          action: spec.action,
          summary: summarize(spec),
          maxActions: spec.maxActions,
          windowMs: BigInt(spec.windowMs),
          counts,
          lastMatchedAtMs: BigInt(tally?.lastAtMs ?? 0),
        });
      });
      return create(ListPoliciesResponseSchema, {
        policies,
        source: deps.source,
        ...(override ? { dryRunOverride: override } : {}),
      });
    },

    async listPolicyDecisions(request) {
      if (request.policy.length > 200)
        throw new ConnectError("policy must be at most 200 characters", Code.InvalidArgument);
      const limit = request.limit === 0 ? 100 : Math.min(request.limit, 500);
      return create(ListPolicyDecisionsResponseSchema, {
        decisions: await store.listDecisions({
          limit,
          ...(request.policy ? { policy: request.policy } : {}),
          ...(request.beforeMs > 0n ? { beforeMs: Number(request.beforeMs) } : {}),
        }),
      });
    },

    async setDryRunOverride(request, context) {
      const caller = requireOperator(context.requestHeader, deps.auth);
      const reason = request.reason.trim();
      if (reason.length > MAX_REASON)
        throw new ConnectError(
          `the reason must be at most ${MAX_REASON} characters`,
          Code.InvalidArgument,
        );
      const atMs = BigInt(clock.now());
      const override = create(DryRunOverrideSchema, {
        on: request.on,
        actor: caller.actor,
        atMs,
        reason,
        auditId: randomUUID(),
      });
      const outcome = request.on
        ? "every policy held in dry run"
        : "policies back to their configured modes";
      await store.setDryRunOverride(
        override,
        create(AuditRecordSchema, {
          id: override.auditId,
          atMs,
          endedAtMs: atMs,
          actor: caller.actor,
          kind: ActionKind.POLICY_SWITCH,
          reason: reason || "(no reason given)",
          result: ActionStatus.SUCCEEDED,
          outcome: `policy dry-run switch ${request.on ? "on" : "off"}: ${outcome}`,
        }),
      );
      engine.overrideChanged(override);
      deps.record({
        workerId: "",
        kind: "policy_override",
        summary: `${caller.actor} turned the policy dry-run switch ${request.on ? "on" : "off"}: ${outcome}${reason ? ` (${reason.slice(0, 200)})` : ""}`,
      });
      return create(SetDryRunOverrideResponseSchema, { dryRunOverride: override });
    },
  };
}
