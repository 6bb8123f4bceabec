import { useCallback, useEffect, useState } from "react";

const STORAGE_KEY = "stallwatch.theme";

/**
 * Light or dark, remembered in this browser. "" follows the system
 * (`prefers-color-scheme`); a choice sets `data-theme` on the document root,
 * which the palettes in the stylesheets read.
 */
export function useTheme(): { theme: string; toggle: () => void } {
  const [theme, setTheme] = useState<string>(() => localStorage.getItem(STORAGE_KEY) ?? "");
  useEffect(() => {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    localStorage.setItem(STORAGE_KEY, theme);
  }, [theme]);
  const toggle = useCallback(() => setTheme((t) => (t === "dark" ? "light" : "dark")), []);
  return { theme, toggle };
}
