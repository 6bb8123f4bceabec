import type { ReactNode } from "react";

/**
 * A table with a header row of column names; `children` are its body rows.
 * A column given as `false` is left out (e.g. an action column for operators
 * only), so callers can write `[…, canAct && "Action"]`.
 */
export function DataTable({
  columns,
  className,
  children,
}: {
  columns: readonly (string | false)[];
  className?: string;
  children: ReactNode;
}) {
  return (
    <table className={className}>
      <thead>
        <tr>
          {columns.map(
            (name) =>
              name !== false && (
                <th key={name} scope="col">
                  {name}
                </th>
              ),
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
