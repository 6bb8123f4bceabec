import { SessionState } from "../../../gen/stallwatch/v1/agent_pb.js";

// The words for session states, shared by the gateway (stall reasons, snapshot
// summaries, action outcomes) and the SPA (stalled board, sessions table), so
// every place says the same thing.

const STATE_NAMES: Record<SessionState, string> = {
  [SessionState.UNSPECIFIED]: "unknown state",
  [SessionState.INITIALIZING]: "initializing",
  [SessionState.WAITING_FOR_INPUT]: "waiting for input",
  [SessionState.PROCESSING]: "processing",
  [SessionState.FINISHING]: "finishing",
  [SessionState.CANCELLING]: "cancelling",
};

/** "waiting for input", "processing", … */
export function stateName(state: SessionState): string {
  return STATE_NAMES[state];
}
