const KEY = "stallwatch.operator-token";

/**
 * The operator token lives in sessionStorage (gone when the tab closes). A
 * link ending in `#operator-token=…` (what `npm start` prints) stores it and
 * removes it from the address bar, so it is not shared by copying the URL.
 */
export function readOperatorToken(): string | undefined {
  const match = /^#operator-token=([^&]+)$/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function setOperatorToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}
