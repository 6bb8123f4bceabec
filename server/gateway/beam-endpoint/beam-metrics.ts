import { Counter, Gauge, type Registry } from "prom-client";
import type { BeamFormat } from "../beam-text/beam-types.js";

export type BeamRefusal =
  "streams_cap" | "connection_cap" | "duplicate_id" | "kind_conflict" | "bad_id" | "malformed";

export type BeamCut = "bytes" | "threads" | "frames" | "lines";

/**
 * Beam-path metrics, registered in the gateway's registry. Labels come from
 * closed sets only (never a worker id), so scrapes stay cheap.
 */
export class BeamMetrics {
  private readonly refused: Counter<"reason">;
  private readonly texts: Counter<"format">;
  private readonly cuts: Counter<"what">;
  private open = 0;

  constructor(registry: Registry) {
    const registers = [registry];
    this.refused = new Counter({
      name: "stallwatch_beam_streams_refused_total",
      help: "Beam status streams refused or ended by the gateway, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.texts = new Counter({
      name: "stallwatch_beam_status_texts_total",
      help: "Beam status texts received, by the SDK format recognised (unknown = kept raw only).",
      labelNames: ["format"],
      registers,
    });
    this.cuts = new Counter({
      name: "stallwatch_beam_status_cut_total",
      help: "Beam status texts cut by a cap, by what was cut (bytes, threads, frames, lines).",
      labelNames: ["what"],
      registers,
    });
    const open = () => this.open;
    new Gauge({
      name: "stallwatch_beam_streams",
      help: "Beam status streams open now.",
      registers,
      collect() {
        this.set(open());
      },
    });
  }

  refusal(reason: BeamRefusal): void {
    this.refused.inc({ reason });
  }

  text(format: BeamFormat): void {
    this.texts.inc({ format });
  }

  cut(what: BeamCut): void {
    this.cuts.inc({ what });
  }

  streamOpened(): void {
    this.open += 1;
  }

  streamClosed(): void {
    this.open = Math.max(0, this.open - 1);
  }
}
