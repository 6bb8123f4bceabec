import { NavLink, Outlet } from "react-router";

/** Page frame: the product name, the main sections, and the current view. */
export function Layout() {
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
        </nav>
      </header>
      <main>
        <Outlet />
      </main>
    </div>
  );
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
