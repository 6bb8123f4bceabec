import { Link } from "react-router";
import { formatClock } from "../../../shared/format";
import { LoadError } from "../../../shared/load-error";
import { Page } from "../../../shared/page";
import { useUrlFilter } from "../../../shared/use-url-filter";
import { usePolicies } from "../api/use-policies";
import { usePolicyDecisions } from "../api/use-policy-decisions";
import { DecisionTable } from "./decision-table";
import { DryRunSwitch } from "./dry-run-switch";
import { PolicyTable } from "./policy-table";

/**
 * Remediation policies: each one's mode and what it has done, the switch
 * that holds them all in dry run, and every decision with its evidence.
 * `?policy=` narrows the decisions to one policy, so that view is a link.
 */
export function PoliciesPage() {
  const [filter] = useUrlFilter({ policy: "policy" });
  const policies = usePolicies();
  const decisions = usePolicyDecisions(filter.policy);
  const override = policies.data?.dryRunOverride;
  const list = policies.data?.policies;
  return (
    <Page id="policies-title" title="Policies" head={<DryRunSwitch override={override} />}>
      <LoadError error={policies.error} what="load the policies" retry={policies.refetch} />
      {override?.on && (
        <p role="status" className="policy-hold">
          <strong>Every policy is held in dry run</strong> since {formatClock(override.atMs)} by{" "}
          {override.actor}: {override.reason}
        </p>
      )}
      {policies.data?.source && <p className="sub">From {policies.data.source}</p>}
      {list?.length === 0 && (
        <p>
          No policies configured. Start the gateway with <code>--policy-file FILE</code> to add
          some; see the README, “Remediation policies”.
        </p>
      )}
      {list && list.length > 0 && <PolicyTable policies={list} selected={filter.policy} />}
      <h2>
        Decisions{filter.policy && <> of {filter.policy}</>}
        {filter.policy && (
          <>
            {" "}
            <Link to="/policies" className="sub">
              (all policies)
            </Link>
          </>
        )}
      </h2>
      <LoadError error={decisions.error} what="load the decisions" retry={decisions.refetch} />
      {decisions.data?.decisions.length === 0 && (
        <p>No matches{filter.policy ? " for this policy" : ""} yet.</p>
      )}
      {decisions.data && decisions.data.decisions.length > 0 && (
        <DecisionTable decisions={decisions.data.decisions} />
      )}
    </Page>
  );
}
