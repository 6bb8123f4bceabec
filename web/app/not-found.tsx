import { NavLink } from "react-router";

/** Any address that is no view: say so, and offer the way back. */
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
