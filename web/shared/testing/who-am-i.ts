import { Role } from "../../../gen/stallwatch/v1/control_pb";

/**
 * A `ControlService.whoAmI` answer for component tests: an operator "alice",
 * or an anonymous viewer with the reason the gateway gives.
 */
export function whoAmIAs(role: Role) {
  return () =>
    role === Role.OPERATOR
      ? { role, actor: "alice", reason: "" }
      : { role, actor: "anonymous", reason: "no operator token sent" };
}
