import type { ReactNode } from "react";

/**
 * A view's frame: a section named by its heading, with `head` (a count, a
 * button) beside the title. `id` must be unique on the page; the section's
 * accessible name is the title.
 */
export function Page({
  id,
  title,
  head,
  children,
}: {
  id: string;
  title: ReactNode;
  head?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section aria-labelledby={id}>
      <div className="page-head">
        <h1 id={id}>{title}</h1>
        {head}
      </div>
      {children}
    </section>
  );
}
