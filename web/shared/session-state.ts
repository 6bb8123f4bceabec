import { SessionState } from "../../gen/stallwatch/v1/agent_pb";

/** The word shown for each session state. */
export const STATE_LABEL: Record<SessionState, string> = {
  [SessionState.UNSPECIFIED]: "unknown",
  [SessionState.INITIALIZING]: "initializing",
  [SessionState.WAITING_FOR_INPUT]: "waiting for input",
  [SessionState.PROCESSING]: "processing",
  [SessionState.FINISHING]: "finishing",
  [SessionState.CANCELLING]: "cancelling",
};
