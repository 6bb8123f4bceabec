import { readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { Snapshot } from "../../../gen/stallwatch/v1/snapshot_pb.js";
import type { Logger } from "../../shared/logging/logger.js";
import { summarizeSnapshot } from "../../shared/words/snapshot-summary.js";
import type { SnapshotStore } from "../store/snapshot-store.js";
import { htmlHeaders } from "./static-files.js";

const PATH = /^\/snapshots\/([^/]{1,100})(?:\/workers\/[^/]{1,400})?\/?$/;
const SNAPSHOT_ID = /^[A-Za-z0-9_-]{22,64}$/;
/** Snapshots are immutable: their meta is kept for the most recent ids. */
const CACHE_ENTRIES = 200;

/** The meta a chat needs to unfurl a permalink, or a marker that the id is unknown. */
interface UnfurlMeta {
  title: string;
  description: string;
  missing: boolean;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** "2026-12-01 13:20:48 UTC": a chat's readers sit in many time zones. */
function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/**
 * Title and description for a snapshot: what is wrong, the worst of it,
 * when, by whom, of what. Only what the snapshot shows any viewer: the actor
 * is the gateway's name for the caller ("operator (token)", or the proxy's
 * identity), never a credential.
 */
function unfurlMeta(snapshot: Snapshot | undefined): UnfurlMeta {
  if (!snapshot?.info) {
    return {
      title: "Stallwatch: snapshot not found",
      description: "This snapshot does not exist or has expired.",
      missing: true,
    };
  }
  const info = snapshot.info;
  const summary = summarizeSnapshot(snapshot);
  const note = info.note ? ` — “${clip(info.note.replace(/\s+/g, " "), 200)}”` : "";
  return {
    title: clip(`Stallwatch snapshot: ${summary.headline}`, 200),
    description: clip(
      `${summary.worst ? `${summary.worst}. ` : ""}Taken ${utc(Number(info.createdAtMs))} by ${clip(info.createdBy, 80)} ${summary.scope}${note}. Read-only.`,
      400,
    ),
    missing: false,
  };
}

/** The tags, escaped, to put in the page's head. */
function renderMetaTags(meta: UnfurlMeta, id: string): string {
  const tag = (attr: "property" | "name", key: string, value: string) =>
    `<meta ${attr}="${key}" content="${escapeHtml(value)}" />`;
  return [
    tag("property", "og:site_name", "Stallwatch"),
    tag("property", "og:type", "website"),
    tag("property", "og:title", meta.title),
    tag("property", "og:description", meta.description),
    tag("name", "twitter:card", "summary"),
    tag("name", "twitter:title", meta.title),
    tag("name", "twitter:description", meta.description),
    tag("name", "description", meta.description),
    // The SPA reads this instead of asking the API (whose 404 the console would log).
    ...(meta.missing ? [tag("name", "stallwatch:snapshot-missing", id)] : []),
  ].join("\n    ");
}

/**
 * Serves `/snapshots/:id` (and its worker pages) as the SPA's `index.html`
 * with Open Graph and Twitter-card meta rendered here, so a chat unfurls a
 * permalink without running JavaScript. Returns false for any other request.
 */
export function createSnapshotUnfurl(deps: {
  store: Pick<SnapshotStore, "getSnapshot">;
  webRoot: string;
  log: Logger;
}) {
  const indexPath = join(deps.webRoot, "index.html");
  let index: { mtimeMs: number; html: string } | undefined;
  const cache = new Map<string, UnfurlMeta>();

  const readIndex = (): string | undefined => {
    try {
      const { mtimeMs } = statSync(indexPath);
      if (index?.mtimeMs !== mtimeMs) index = { mtimeMs, html: readFileSync(indexPath, "utf8") };
      return index.html;
    } catch {
      return undefined;
    }
  };

  const metaFor = async (id: string): Promise<UnfurlMeta> => {
    const cached = cache.get(id);
    if (cached && !cached.missing) return cached;
    let snapshot: Snapshot | undefined;
    try {
      snapshot = SNAPSHOT_ID.test(id) ? await deps.store.getSnapshot(id) : undefined;
    } catch (err) {
      // The page still loads; the SPA will report the error from the API.
      deps.log.warn({ err, snapshot: id }, "snapshot unfurl: could not read the snapshot");
    }
    const meta = unfurlMeta(snapshot);
    if (!meta.missing) {
      if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value ?? "");
      cache.set(id, meta);
    }
    return meta;
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const match = PATH.exec((req.url ?? "").split("?")[0] ?? "");
    if (!match) return false;
    const html = readIndex();
    if (html === undefined) return false; // not built: the static handler says so
    let id: string;
    try {
      id = decodeURIComponent(match[1] ?? "");
    } catch {
      return false;
    }
    // The store is asynchronous (PostgreSQL in a cluster); the request is
    // ours from here, answered once the snapshot is read.
    void metaFor(id).then((meta) => {
      const page = html
        .replace(/<title>[^<]*<\/title>/, `<title>${escapeHtml(meta.title)}</title>`)
        .replace("</head>", `  ${renderMetaTags(meta, id)}\n  </head>`);
      res.writeHead(200, {
        ...htmlHeaders(),
        "content-type": "text/html; charset=utf-8",
        "content-length": Buffer.byteLength(page),
      });
      res.end(req.method === "HEAD" ? undefined : page);
    });
    return true;
  };
}
