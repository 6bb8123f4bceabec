import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { ActionKindName } from "../api/use-action";
import { ActionDialog } from "./action-dialog";

export interface ActionRequest {
  kind: ActionKindName;
  workerId: string;
  sessionId?: string;
  consequence: string;
}

const ActionHostContext = createContext<((request: ActionRequest) => void) | undefined>(undefined);

/**
 * Owns the open action dialog above the views. A dialog opened from a
 * session row outlives that row: cancelling a session removes its row within
 * seconds, and the outcome must stay until the operator dismisses it.
 */
export function ActionHost({ children }: { children: ReactNode }) {
  const [open, setOpen] = useState<(ActionRequest & { key: number }) | undefined>(undefined);
  const start = useCallback(
    (request: ActionRequest) => setOpen((o) => ({ ...request, key: (o?.key ?? 0) + 1 })),
    [],
  );
  const value = useMemo(() => start, [start]);
  return (
    <ActionHostContext.Provider value={value}>
      {children}
      {open && (
        <ActionDialog
          key={open.key}
          kind={open.kind}
          workerId={open.workerId}
          {...(open.sessionId ? { sessionId: open.sessionId } : {})}
          consequence={open.consequence}
          onClose={() => setOpen(undefined)}
        />
      )}
    </ActionHostContext.Provider>
  );
}

/** Opens an action dialog in the nearest ActionHost; undefined outside one. */
export function useActionHost(): ((request: ActionRequest) => void) | undefined {
  return useContext(ActionHostContext);
}
