import { useEffect, useState } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";
import { ActionHost, useWhoAmI } from "../features/actions/index";
import { ShareSnapshotButton } from "../features/share-snapshot/index";
import { HiddenLabelInput } from "../shared/hidden-label-input";
import { readOperatorToken, setOperatorToken } from "./operator-token";
import { useQueryClient } from "@tanstack/react-query";

const SHORTCUTS: [string, string][] = [
  ["g f", "fleet"],
  ["g s", "stalled sessions"],
  ["g a", "audit log"],
  ["g e", "events"],
  ["g n", "snapshots"],
  ["/", "filter the fleet"],
  ["t", "switch light / dark"],
  ["?", "this help"],
];

/** Page frame: sections, role, theme, shortcuts, and the current view. */
export function Layout() {
  const navigate = useNavigate();
  const [help, setHelp] = useState(false);
  const [theme, setTheme] = useState<string>(() => localStorage.getItem("stallwatch.theme") ?? "");
  useEffect(() => {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    localStorage.setItem("stallwatch.theme", theme);
  }, [theme]);
  useEffect(() => {
    let pending = "";
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const go: Record<string, string> = {
        f: "/",
        s: "/stalled",
        a: "/audit",
        e: "/events",
        n: "/snapshots",
      };
      if (pending === "g" && go[e.key]) {
        void navigate(go[e.key] ?? "/");
        pending = "";
        return;
      }
      pending = e.key === "g" ? "g" : "";
      if (e.key === "?") setHelp((h) => !h);
      else if (e.key === "Escape") setHelp(false);
      else if (e.key === "t") setTheme((t) => (t === "dark" ? "light" : "dark"));
      else if (e.key === "/") {
        const filter = document.getElementById("fleet-filter");
        if (filter) {
          e.preventDefault();
          filter.focus();
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);

  return (
    <div className="app">
      <header className="top">
        <NavLink to="/" className="brand">
          Stallwatch
        </NavLink>
        <nav aria-label="Sections">
          <NavLink to="/" end>
            Fleet
          </NavLink>
          <NavLink to="/stalled">Stalled</NavLink>
          <NavLink to="/events">Events</NavLink>
          <NavLink to="/audit">Audit</NavLink>
          <NavLink to="/snapshots">Snapshots</NavLink>
        </nav>
        <span className="spacer" />
        <ShareSnapshotButton />
        <RoleBadge />
        <button
          type="button"
          onClick={() => setTheme((t) => (t === "dark" ? "light" : "dark"))}
          aria-label="Switch light or dark theme"
        >
          {theme === "dark" ? "Light" : "Dark"}
        </button>
        <button type="button" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
          ?
        </button>
      </header>
      <main>
        <ActionHost>
          <Outlet />
        </ActionHost>
      </main>
      {help && (
        <div
          className="overlay"
          role="dialog"
          aria-modal="true"
          aria-labelledby="shortcuts-title"
          onClick={() => setHelp(false)}
        >
          <div className="overlay-card" onClick={(e) => e.stopPropagation()}>
            <h2 id="shortcuts-title">Keyboard shortcuts</h2>
            <dl className="facts">
              {SHORTCUTS.map(([keys, what]) => (
                <div key={keys} style={{ display: "contents" }}>
                  <dt>
                    <kbd>{keys}</kbd>
                  </dt>
                  <dd>{what}</dd>
                </div>
              ))}
            </dl>
            <button type="button" onClick={() => setHelp(false)} autoFocus>
              Close
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

/** Viewer or operator; a viewer can paste the operator token here. */
function RoleBadge() {
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

/**
 * "operator" plus who, once: the gateway's actor for a token is already
 * "operator (token)", which must not become "operator (operator (token))".
 */
export function identityLabel(actor: string): string {
  if (!actor) return "operator";
  return actor.toLowerCase().startsWith("operator") ? actor : `operator · ${actor}`;
}

export function NotFound() {
  return (
    <section className="problem">
      <h1>Not found</h1>
      <p>
        There is no page at this address. <NavLink to="/">Go to the fleet</NavLink>
      </p>
    </section>
  );
}
