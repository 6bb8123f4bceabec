/**
 * The words for session states are the gateway's, so the stalled board, the
 * sessions table, stall reasons and snapshot summaries all say the same.
 */
export { stateName } from "../../server/shared/words/session-words";
