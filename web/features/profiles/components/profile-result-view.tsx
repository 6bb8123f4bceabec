import { useState } from "react";
import { ProfileMode } from "../../../../gen/stallwatch/v1/agent_pb";
import { ProfileSource, type Profile } from "../../../../gen/stallwatch/v1/profile_pb";
import { clip } from "../../../shared/format";
import { collapsedStacks, speedscopeJson } from "../api/profile-export";
import { useProfileRows } from "../api/use-profile-rows";
import { download } from "./download";
import { FlameGraph } from "./flame-graph";
import { ProfileTableView } from "./profile-table-view";

export const MODE_WORDS: Record<ProfileMode, string> = {
  [ProfileMode.UNSPECIFIED]: "wall-clock",
  [ProfileMode.WALL]: "wall-clock",
  [ProfileMode.CPU]: "CPU",
};

/** A file name from a profile's worker and id, safe on every file system. */
const fileBase = (p: Profile) => `profile-${p.workerId}-${p.profileId}`.replace(/[^\w.-]+/g, "_");

/**
 * A finished profile: where its samples came from, whether it is partial,
 * one thread or all, py-spy's table and the flame graph, and the exports.
 * A thread that was never on a CPU in CPU mode shows its note ("idle: 0 of
 * N samples on CPU …") in place of an empty graph. Read-only: the same view
 * serves the live page and a snapshot's permalink.
 */
export function ProfileResultView({ profile }: { profile: Profile }) {
  const result = profile.result;
  const [threadId, setThreadId] = useState("");
  const { rows, pending } = useProfileRows(result, threadId);
  if (!result) return null;
  const shown = result.threads.filter((t) => threadId === "" || t.threadId === threadId);
  const kept = shown.reduce((n, t) => t.stacks.reduce((m, st) => m + Number(st.count), n), 0);
  const taken = shown.reduce((n, t) => n + Number(t.samplesTaken), 0);
  const notes = shown.filter((t) => t.note !== "");
  return (
    <div className="profile-result">
      <p className="profile-source">
        <strong>{MODE_WORDS[result.mode]}</strong> profile,{" "}
        {profile.source === ProfileSource.NONE ? "no sampler" : clip(profile.sourceLabel, 300)}:{" "}
        {kept} of {taken} samples kept over {(result.durationMs / 1000).toFixed(1)} s, one every{" "}
        {(result.intervalUs / 1000).toFixed(1)} ms on average.
      </p>
      {result.partial && (
        <p className="banner profile-partial" role="note">
          <strong>Partial profile:</strong> {clip(result.partialReason, 500)}. What was sampled
          until then is shown.
        </p>
      )}
      {result.note && <p className="sub">{clip(result.note, 500)}</p>}
      <div className="profile-tools">
        <label>
          Thread{" "}
          <select value={threadId} onChange={(e) => setThreadId(e.target.value)}>
            <option value="">All threads ({result.threads.length})</option>
            {result.threads.map((t) => (
              <option key={t.threadId} value={t.threadId}>
                {clip(t.name || t.threadId, 80)}
                {t.sessionId ? ` (session ${clip(t.sessionId, 40)})` : ""}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() =>
            download(`${fileBase(profile)}.folded`, collapsedStacks(result, threadId), "text/plain")
          }
        >
          Export collapsed stacks
        </button>
        <button
          type="button"
          onClick={() =>
            download(
              `${fileBase(profile)}.speedscope.json`,
              speedscopeJson(result, `${profile.workerId} ${MODE_WORDS[result.mode]} profile`),
              "application/json",
            )
          }
        >
          Export speedscope JSON
        </button>
      </div>
      {notes.map((t) => (
        <p key={t.threadId} className="profile-note" role="note">
          <strong>{clip(t.name || t.threadId, 80)}:</strong> {clip(t.note, 500)}
        </p>
      ))}
      {kept === 0 ? (
        <p className="profile-empty" role="note">
          No samples to draw: {notes.length > 0 ? "see the note above" : "nothing was sampled"}
          {result.mode === ProfileMode.CPU
            ? ". In CPU mode a thread that only waited is idle; a wall-clock profile shows where it waits."
            : "."}
        </p>
      ) : (
        <>
          <h2>Where the time goes</h2>
          {rows ? (
            <ProfileTableView rows={rows} pending={pending} />
          ) : (
            <p className="sub" role="status">
              Folding the samples…
            </p>
          )}
          <h2>Flame graph</h2>
          <FlameGraph key={threadId} result={result} threadId={threadId} />
        </>
      )}
    </div>
  );
}
