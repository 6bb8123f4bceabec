import { useEffect, useState } from "react";
import type { ProfileResult } from "../../../../gen/stallwatch/v1/agent_pb";
import { profileRowsSteps, type ProfileRow } from "./profile-table";
import { runSliced } from "./sliced";

interface Folded {
  result: ProfileResult;
  threadId: string;
  rows: ProfileRow[];
}

/**
 * py-spy's table rows of a profile (one thread, or all with ""), folded in
 * short tasks after the render instead of during it: in a `useMemo`, a
 * 5,000-frame profile's fold was most of a 60-70 ms React commit
 * (bench/profile-view.bench.ts). `rows` is undefined until the first fold
 * ends; on a change of thread it keeps the previous rows (`pending` true)
 * until the new ones are ready, so the table neither blinks nor loses its
 * sort order.
 */
export function useProfileRows(
  result: ProfileResult | undefined,
  threadId: string,
): { rows: ProfileRow[] | undefined; pending: boolean } {
  const [folded, setFolded] = useState<Folded | undefined>(undefined);
  useEffect(() => {
    if (!result) return;
    const abort = new AbortController();
    runSliced(profileRowsSteps(result, threadId), { signal: abort.signal }).then(
      (rows) => setFolded({ result, threadId, rows }),
      (err: unknown) => {
        // Superseded (another thread chosen, or the view left): nothing to show.
        // Anything else is a bug in the fold: left to surface as an unhandled rejection.
        if (!abort.signal.aborted) throw err;
      },
    );
    return () => abort.abort();
  }, [result, threadId]);
  const current = folded?.result === result && folded?.threadId === threadId;
  return { rows: folded?.rows, pending: !current };
}
