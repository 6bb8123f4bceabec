import { ActionStatus, type AuditRecord } from "../../../../gen/stallwatch/v1/control_pb";
import { clip } from "../../../shared/format";
import { useWhoAmI } from "../../actions/index";
import { useRetryAction } from "../api/retry";

/**
 * How an action ended, saying plainly when a gateway restart interrupted it
 * or settled it afterwards, with its retry links; operators may retry an
 * interrupted action once.
 */
export function AuditResult({ record }: { record: AuditRecord }) {
  const interrupted = record.result === ActionStatus.INTERRUPTED;
  return (
    <>
      <strong className={interrupted ? "status-interrupted" : undefined}>
        {ActionStatus[record.result].toLowerCase()}
      </strong>{" "}
      {record.reconciled && (
        <span
          className="badge"
          title="The gateway restarted while this action ran; its outcome was settled afterwards"
        >
          {interrupted ? "gateway restarted" : "settled after a gateway restart"}
        </span>
      )}{" "}
      <span className="sub">{clip(record.outcome, 160)}</span>
      {record.retryOf && <div className="sub">retry of {clip(record.retryOf, 60)}</div>}
      {record.retriedBy && <div className="sub">retried as {clip(record.retriedBy, 60)}</div>}
      {interrupted && !record.retriedBy && <RetryButton retryOf={record.actionId} />}
    </>
  );
}

function RetryButton({ retryOf }: { retryOf: string }) {
  const { isOperator, reason } = useWhoAmI();
  const retry = useRetryAction(retryOf);
  return (
    <div>
      <button
        type="button"
        disabled={!isOperator || retry.isPending || retry.isSuccess}
        title={isOperator ? "Run this action again under a new id linked to this one" : reason}
        onClick={() => {
          if (window.confirm(`Retry ${retryOf}? The same action runs again under a new id.`))
            retry.mutate();
        }}
      >
        {retry.isPending ? "Retrying…" : "Retry"}
      </button>
      {retry.error && <span role="alert"> Retry failed: {retry.error.message}</span>}
      {retry.data?.action && <span className="sub"> started as {retry.data.action.actionId}</span>}
    </div>
  );
}
