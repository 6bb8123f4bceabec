import { useEffect } from "react";
import { useNavigate } from "react-router";

/** Every keyboard shortcut and what it does, as the help overlay lists them. */
export const SHORTCUTS: [string, string][] = [
  ["g f", "fleet"],
  ["g s", "stalled sessions"],
  ["g a", "audit log"],
  ["g e", "events"],
  ["g n", "snapshots"],
  ["/", "filter the fleet"],
  ["t", "switch light / dark"],
  ["?", "this help"],
];

/** The "g" then a letter sections. */
const GO_TO: Record<string, string> = {
  f: "/",
  s: "/stalled",
  a: "/audit",
  e: "/events",
  n: "/snapshots",
};

export interface ShortcutHandlers {
  toggleHelp: () => void;
  closeHelp: () => void;
  toggleTheme: () => void;
}

/**
 * The keyboard shortcuts of `SHORTCUTS`, anywhere but in a text field or
 * with a modifier (those keys belong to the browser and to typing).
 */
export function useShortcuts({ toggleHelp, closeHelp, toggleTheme }: ShortcutHandlers): void {
  const navigate = useNavigate();
  useEffect(() => {
    let pending = "";
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const section = pending === "g" ? GO_TO[e.key] : undefined;
      if (section) {
        void navigate(section);
        pending = "";
        return;
      }
      pending = e.key === "g" ? "g" : "";
      if (e.key === "?") toggleHelp();
      else if (e.key === "Escape") closeHelp();
      else if (e.key === "t") toggleTheme();
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
  }, [navigate, toggleHelp, closeHelp, toggleTheme]);
}
