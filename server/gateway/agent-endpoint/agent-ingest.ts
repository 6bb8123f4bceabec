import type {
  Announce,
  CommandResult,
  FinishedSession,
  Session,
  StatusReport,
  Thread,
} from "../../../gen/stallwatch/v1/agent_pb.js";
import type { Redactor } from "../redaction/redact.js";

/**
 * Limits on what one agent message may carry into the gateway. Counts beyond
 * a cap are dropped (and the drop is named in the report's `error`); strings
 * beyond theirs are cut with a visible marker.
 */
export interface IngestCaps {
  /** Generic worker string: error messages, frames, task-context values. */
  maxText: number;
  /** Short strings: hosts, ids, UDF names, thread names, states, keys. */
  maxShort: number;
  maxSessions: number;
  maxFinished: number;
  maxThreads: number;
  maxFramesPerThread: number;
  maxTaskContextEntries: number;
  maxCapabilities: number;
}

export const DEFAULT_INGEST_CAPS: IngestCaps = {
  maxText: 4096,
  maxShort: 256,
  maxSessions: 1000,
  maxFinished: 100,
  maxThreads: 5000,
  maxFramesPerThread: 200,
  maxTaskContextEntries: 64,
  maxCapabilities: 16,
};

/** What one pass cut or dropped, for the log and /metrics. */
export interface IngestStats {
  truncatedStrings: number;
  droppedItems: number;
  /** Characters of text the message carried before cutting (its rough size). */
  rawChars: number;
}

/** The marker a cut string ends with; the dashboard shows it as is. */
export function truncationMarker(cutChars: number): string {
  return `…[truncated ${cutChars} chars]`;
}

/**
 * The agent-ingest boundary: every string an agent sends is cut to its cap,
 * then redacted, once, when the message arrives; nothing downstream (fleet
 * rows, events, snapshots, the dashboard) sees the raw value. Counts are cut
 * first so the work per message is bounded before any regex runs.
 * Mutates and returns the message (it is fresh from the wire).
 */
export class AgentIngest {
  constructor(
    private readonly redact: Redactor,
    private readonly caps: IngestCaps = DEFAULT_INGEST_CAPS,
  ) {}

  announce(a: Announce): IngestStats {
    const s = newStats();
    // worker_id and manage_address are validated (refused, not cut) elsewhere.
    a.host = this.text(a.host, this.caps.maxShort, s);
    a.runtime = this.text(a.runtime, this.caps.maxShort, s);
    a.version = this.text(a.version, this.caps.maxShort, s);
    a.capabilities = this.list(a.capabilities, this.caps.maxCapabilities, s).map((c) =>
      this.text(c, 64, s),
    );
    return s;
  }

  statusReport(r: StatusReport): IngestStats {
    const s = newStats();
    const { caps } = this;
    r.requestId = r.requestId.slice(0, caps.maxShort);
    const notes: string[] = [];
    if (r.sessions.length > caps.maxSessions)
      notes.push(`${r.sessions.length - caps.maxSessions} sessions dropped`);
    r.sessions = this.list(r.sessions, caps.maxSessions, s);
    for (const session of r.sessions) this.session(session, s);
    r.finished = this.list(r.finished, caps.maxFinished, s);
    for (const f of r.finished) this.finished(f, s);
    if (r.dump) {
      if (r.dump.threads.length > caps.maxThreads)
        notes.push(`${r.dump.threads.length - caps.maxThreads} threads dropped`);
      r.dump.threads = this.list(r.dump.threads, caps.maxThreads, s);
      for (const t of r.dump.threads) this.thread(t, s);
    }
    r.error = this.text(r.error, caps.maxText, s);
    if (notes.length > 0)
      r.error =
        r.error === ""
          ? `gateway cap: ${notes.join(", ")}`
          : `${r.error}; gateway cap: ${notes.join(", ")}`;
    return s;
  }

  commandResult(c: CommandResult): IngestStats {
    const s = newStats();
    c.commandId = c.commandId.slice(0, this.caps.maxShort);
    c.message = this.text(c.message, this.caps.maxText, s);
    return s;
  }

  private session(x: Session, s: IngestStats): void {
    x.sessionId = this.text(x.sessionId, this.caps.maxShort, s);
    x.udfName = this.text(x.udfName, this.caps.maxShort, s);
    x.udfFormat = this.text(x.udfFormat, this.caps.maxShort, s);
    x.threadId = this.text(x.threadId, this.caps.maxShort, s);
    x.taskContext = this.context(x.taskContext, s);
  }

  private finished(x: FinishedSession, s: IngestStats): void {
    x.sessionId = this.text(x.sessionId, this.caps.maxShort, s);
    x.udfName = this.text(x.udfName, this.caps.maxShort, s);
    x.errorMessage = this.text(x.errorMessage, this.caps.maxText, s);
    x.taskContext = this.context(x.taskContext, s);
  }

  private thread(t: Thread, s: IngestStats): void {
    const { caps } = this;
    t.threadId = this.text(t.threadId, caps.maxShort, s);
    t.name = this.text(t.name, caps.maxShort, s);
    t.state = this.text(t.state, 64, s);
    t.sessionId = this.text(t.sessionId, caps.maxShort, s);
    const extra = t.frames.length - caps.maxFramesPerThread;
    const frames = this.list(t.frames, caps.maxFramesPerThread, s).map((f) =>
      this.text(f, caps.maxText, s),
    );
    if (extra > 0) frames.push(`… ${extra} more frames (gateway cap ${caps.maxFramesPerThread})`);
    t.frames = frames;
  }

  /** Task context: keys and values capped and redacted; a secret-named key hides its value. */
  private context(ctx: Record<string, string>, s: IngestStats): Record<string, string> {
    const out: Record<string, string> = {};
    const entries = Object.entries(ctx);
    if (entries.length > this.caps.maxTaskContextEntries)
      s.droppedItems += entries.length - this.caps.maxTaskContextEntries;
    for (const [key, value] of entries.slice(0, this.caps.maxTaskContextEntries)) {
      const k = this.text(key, 128, s);
      const probe = `${k}=x`;
      out[k] = this.redact(probe) !== probe ? "[REDACTED]" : this.text(value, 1024, s);
    }
    return out;
  }

  private list<T>(items: T[], cap: number, s: IngestStats): T[] {
    if (items.length <= cap) return items;
    s.droppedItems += items.length - cap;
    return items.slice(0, cap);
  }

  /** Cut, then redact: the regexes only ever see capped text. */
  private text(value: string, cap: number, s: IngestStats): string {
    if (value === "") return value;
    s.rawChars += value.length;
    if (value.length > cap) {
      s.truncatedStrings += 1;
      return this.redact(value.slice(0, cap)) + truncationMarker(value.length - cap);
    }
    return this.redact(value);
  }
}

function newStats(): IngestStats {
  return { truncatedStrings: 0, droppedItems: 0, rawChars: 0 };
}
