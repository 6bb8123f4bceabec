import type { WorkerDetail } from "../../../../gen/stallwatch/v1/fleet_pb.js";

const FORMAT_LABEL: Record<string, string> = {
  python: "Python SDK status text",
  java: "Java SDK status text",
  go: "Go SDK goroutine dump",
  unknown: "a format no parser knows: kept raw only (see Raw text in the thread dump)",
};

/**
 * What the gateway made of a Beam harness's status text: which SDK format it
 * was read as, the text it could not parse (never hidden), and a note when
 * the harness sent no worker_id and is keyed by its peer address.
 */
export function BeamStatusFacts({ detail }: { detail: WorkerDetail }) {
  const id = detail.worker?.id ?? "";
  const beam = detail.beamStatus;
  const peerKeyed = id.startsWith("peer:");
  if (!beam && !peerKeyed) return null;
  return (
    <>
      {peerKeyed && (
        <>
          <dt>Identity</dt>
          <dd className="note" data-testid="peer-note">
            This harness sent no <code>worker_id</code> header, so it is keyed by its peer address;
            a reconnect from another port shows as a new worker.
          </dd>
        </>
      )}
      {beam && (
        <>
          <dt>Beam status</dt>
          <dd data-testid="beam-format">
            {FORMAT_LABEL[beam.format] ?? "not parsed yet"}
            {beam.bundles.length > 0
              ? ` · ${beam.bundles.length} active bundle${beam.bundles.length === 1 ? "" : "s"}`
              : ""}
            {beam.error ? ` · harness error: ${beam.error.slice(0, 300)}` : ""}
          </dd>
          {beam.unparsedLines > 0 && (
            <>
              <dt>Not parsed</dt>
              <dd>
                <details>
                  <summary>{beam.unparsedLines} lines no parser understood</summary>
                  <pre className="stack raw" data-testid="beam-unparsed">
                    {beam.unparsed}
                  </pre>
                </details>
              </dd>
            </>
          )}
        </>
      )}
    </>
  );
}
