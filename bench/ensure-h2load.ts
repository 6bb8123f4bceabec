// h2load comes from Debian's nghttp2-client: installed the way
// scripts/lib.js ensureDebianPackages installs Chromium, and optional.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Lib {
  ensureDebianPackages: (
    packages: { name: string; binary: string }[],
    opts: { required: boolean },
  ) => Promise<boolean>;
}

export async function ensureH2load(): Promise<boolean> {
  if (existsSync("/usr/bin/h2load")) return true;
  const lib = fileURLToPath(new URL("../../scripts/lib.js", import.meta.url));
  const { ensureDebianPackages } = (await import(pathToFileURL(lib).href)) as Lib;
  await ensureDebianPackages([{ name: "nghttp2-client", binary: "/usr/bin/h2load" }], {
    required: false,
  });
  return existsSync("/usr/bin/h2load");
}
