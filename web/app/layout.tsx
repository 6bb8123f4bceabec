import { useCallback, useState } from "react";
import { NavLink, Outlet } from "react-router";
import { ActionHost } from "../features/actions/index";
import { ShareSnapshotButton } from "../features/share-snapshot/index";
import { RoleBadge } from "./role-badge";
import { ShortcutsHelp } from "./shortcuts-help";
import { useShortcuts } from "./use-shortcuts";
import { usePreloadOnIntent } from "./use-preload-on-intent";
import { useTheme } from "./use-theme";
import { loadWorkerView } from "./worker-view-code";

/** A live worker page, not a snapshot's (which loads with its snapshot). */
const WORKER_PAGE = /^\/workers\/[^/]+\/?$/;

/**
 * The page frame: sections, share, role, theme and help in the header, the
 * current view below. The action dialog's host sits above the views, so an
 * action's outcome outlives the row or page it was started from.
 */
export function Layout() {
  const { theme, toggle: toggleTheme } = useTheme();
  const [help, setHelp] = useState(false);
  const toggleHelp = useCallback(() => setHelp((h) => !h), []);
  const closeHelp = useCallback(() => setHelp(false), []);
  useShortcuts({ toggleHelp, closeHelp, toggleTheme });
  usePreloadOnIntent(WORKER_PAGE, loadWorkerView);

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
          <NavLink to="/policies">Policies</NavLink>
          <NavLink to="/snapshots">Snapshots</NavLink>
        </nav>
        <span className="spacer" />
        <ShareSnapshotButton />
        <RoleBadge />
        <button type="button" onClick={toggleTheme} aria-label="Switch light or dark theme">
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
      {help && <ShortcutsHelp onClose={closeHelp} />}
    </div>
  );
}
