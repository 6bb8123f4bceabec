import { create } from "@bufbuild/protobuf";
import {
  FoldedStackSchema,
  ProfileFrameSchema,
  type FoldedStack,
  type ProfileFrame,
} from "../../../gen/stallwatch/v1/agent_pb.js";

/** Caps from docs/profiles.md: the gateway refuses a result over them. */
export const MAX_FRAMES = 20_000;
export const MAX_STACKS_PER_THREAD = 50_000;
export const MAX_DEPTH = 256;
const MAX_TEXT = 2000;

/** A frame as a sampler sees it; `line` is 1-based, 0 when unknown. */
export interface FrameKey {
  fn: string;
  file: string;
  line: number;
}

/**
 * The result's frame table: one index per distinct {function, file, line}.
 * Past {@link MAX_FRAMES} every new frame maps to one "(more frames)" entry,
 * so a pathological profile still fits the contract instead of failing.
 */
export class FrameTable {
  readonly frames: ProfileFrame[] = [];
  private readonly index = new Map<string, number>();

  indexOf(frame: FrameKey): number {
    const key = `${frame.fn}\0${frame.file}\0${frame.line}`;
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (this.frames.length >= MAX_FRAMES - 1) return this.indexOf(OVERFLOW);
    const at = this.frames.length;
    this.frames.push(
      create(ProfileFrameSchema, {
        function: frame.fn.slice(0, MAX_TEXT),
        file: frame.file.slice(0, MAX_TEXT),
        line: Math.max(0, Math.floor(frame.line)),
      }),
    );
    this.index.set(key, at);
    return at;
  }
}

const OVERFLOW: FrameKey = { fn: "(more frames)", file: "", line: 0 };

/** One thread's samples, folded: distinct root-first stacks and their counts. */
export class StackCounts {
  private readonly stacks = new Map<string, { frames: number[]; count: number }>();
  /** Samples kept (what the counts add up to). */
  kept = 0;

  /** Counts one sample of `frames` (indexes into a {@link FrameTable}, root first). */
  add(frames: number[], count = 1): void {
    const trimmed = frames.length > MAX_DEPTH ? frames.slice(frames.length - MAX_DEPTH) : frames;
    const key = trimmed.join(",");
    this.kept += count;
    const known = this.stacks.get(key);
    if (known) known.count += count;
    else if (this.stacks.size < MAX_STACKS_PER_THREAD)
      this.stacks.set(key, { frames: trimmed, count });
    else this.kept -= count;
  }

  toProto(): FoldedStack[] {
    return [...this.stacks.values()].map((s) =>
      create(FoldedStackSchema, { frames: s.frames, count: BigInt(s.count) }),
    );
  }
}
