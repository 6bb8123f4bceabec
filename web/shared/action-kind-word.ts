import { ActionKind } from "../../gen/stallwatch/v1/control_pb";

/**
 * An action kind in the words the pages use (the audit log, the policies
 * view). One place, so a kind added to the proto is worded once; a kind this
 * build does not know (a newer gateway) reads as such instead of breaking the page.
 */

export function actionKindWord(kind: ActionKind): string {
  switch (kind) {
    case ActionKind.CANCEL_SESSION:
      return "cancel session";
    case ActionKind.DRAIN_WORKER:
      return "drain worker";
    case ActionKind.CANCEL_WORKER:
      return "cancel worker";
    case ActionKind.PROFILE:
      return "profile";
    case ActionKind.POLICY_SWITCH:
      return "policy switch";
    default:
      return `unknown action (${String(kind)})`;
  }
}
