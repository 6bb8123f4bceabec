import { useSearchParams } from "react-router";

/**
 * Filters kept in the URL (so a filtered view is a link): reads each named
 * parameter and sets one, removing it when empty.
 */
export function useUrlFilter<K extends string>(
  names: Record<K, string>,
): [Record<K, string>, (key: K, value: string) => void] {
  const [params, setParams] = useSearchParams();
  const values = {} as Record<K, string>;
  for (const key of Object.keys(names) as K[]) values[key] = params.get(names[key]) ?? "";
  const set = (key: K, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(names[key], value);
    else next.delete(names[key]);
    setParams(next, { replace: true });
  };
  return [values, set];
}
