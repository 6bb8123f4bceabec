import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useWhoAmI } from "../features/actions/index";
import { HiddenLabelInput } from "../shared/hidden-label-input";
import { identityLabel } from "./identity-label";
import { readOperatorToken, setOperatorToken } from "./operator-token";

/**
 * Viewer or operator; a viewer can paste the operator token here, and an
 * operator who signed in with one can sign out. Either way every query is
 * refetched, since what the gateway answers depends on the role.
 */
export function RoleBadge() {
  const { isOperator, actor, query } = useWhoAmI();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [token, setToken] = useState("");
  if (isOperator) {
    return (
      <span className="role" title={`signed in as ${actor || "operator"}`}>
        {identityLabel(actor)}{" "}
        {readOperatorToken() && (
          <button
            type="button"
            onClick={() => {
              setOperatorToken(undefined);
              void queryClient.invalidateQueries();
            }}
          >
            Sign out
          </button>
        )}
      </span>
    );
  }
  if (!editing) {
    return (
      <span className="role">
        viewer{" "}
        <button type="button" onClick={() => setEditing(true)} disabled={query.isPending}>
          Sign in as operator
        </button>
      </span>
    );
  }
  return (
    <form
      className="role"
      onSubmit={(e) => {
        e.preventDefault();
        setOperatorToken(token.trim());
        setEditing(false);
        void queryClient.invalidateQueries();
      }}
    >
      <HiddenLabelInput
        label="Operator token"
        type="password"
        placeholder="operator token"
        value={token}
        onChange={(e) => setToken(e.target.value)}
        autoFocus
      />
      <button type="submit">Sign in</button>
    </form>
  );
}
