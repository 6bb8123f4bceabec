import type { SettingReader } from "./setting-reader.js";

/** The database and how long what it keeps lives, spread into the gateway's settings table. */
export const STORE_SETTINGS = {
  db: { env: "STALLWATCH_DB", kind: "string", fallback: "./.stallwatch/stallwatch.db" },
  "store-check-ms": { env: "STALLWATCH_STORE_CHECK_MS", kind: "ms", fallback: "5000", min: 100 },
  "snapshot-retention-days": {
    env: "STALLWATCH_SNAPSHOT_RETENTION_DAYS",
    kind: "days",
    fallback: "30",
    min: 0.001,
  },
  "event-retention-days": {
    env: "STALLWATCH_EVENT_RETENTION_DAYS",
    kind: "days",
    fallback: "7",
    min: 0.001,
  },
  "audit-retention-days": {
    env: "STALLWATCH_AUDIT_RETENTION_DAYS",
    kind: "days",
    fallback: "90",
    min: 0.001,
  },
} as const;

type StoreSettingName = keyof typeof STORE_SETTINGS;

export interface StoreSettings {
  /** A SQLite path or a postgres:// URL. */
  dbPath: string;
  /** How often the store's write probe runs (it also runs on every /readyz). */
  storeCheckMs: number;
  snapshotRetentionMs: number;
  eventRetentionMs: number;
  auditRetentionMs: number;
}

const DAY = 86_400_000;

export function loadStoreSettings(
  read: Pick<SettingReader<StoreSettingName>, "number" | "text">,
): StoreSettings {
  return {
    dbPath: read.text("db") ?? STORE_SETTINGS.db.fallback,
    storeCheckMs: read.number("store-check-ms"),
    snapshotRetentionMs: read.number("snapshot-retention-days", DAY),
    eventRetentionMs: read.number("event-retention-days", DAY),
    auditRetentionMs: read.number("audit-retention-days", DAY),
  };
}
