/** The demo UDF catalogue's payload format. */
export const DEMO_FORMAT = "stallwatch.demo.v1";

export const DEMO_FUNCTIONS = [
  "echo",
  "double",
  "slow",
  "hang",
  "spin",
  "fail",
  "failInit",
  "generate",
  "sink",
] as const;

export type DemoFunction = (typeof DEMO_FUNCTIONS)[number];

/**
 * What the Execute session must know about a UDF to drive it, so the
 * protocol code never asks for a UDF by name.
 */
export interface UdfCapabilities {
  /**
   * A source: it emits DataResponses right after InitResponse, before (and
   * without) any DataRequest (the protocol allows it; "generator" UDFs).
   */
  emitsBeforeInput: boolean;
}

/** The demo catalogue's capabilities, declared once per function. */
const DEMO_CAPABILITIES: Record<DemoFunction, UdfCapabilities> = {
  echo: { emitsBeforeInput: false },
  double: { emitsBeforeInput: false },
  slow: { emitsBeforeInput: false },
  hang: { emitsBeforeInput: false },
  spin: { emitsBeforeInput: false },
  fail: { emitsBeforeInput: false },
  failInit: { emitsBeforeInput: false },
  generate: { emitsBeforeInput: true },
  sink: { emitsBeforeInput: false },
};

/** What the UDF thread is asked to run: validated on the main thread first. */
export interface UdfSpec {
  fn: DemoFunction;
  /** Numeric parameters from the payload (e.g. msPerBatch, afterBatches, batches, rows). */
  params: Record<string, number>;
  /** Text parameters (e.g. errorClass, message). */
  text: Record<string, string>;
  capabilities: UdfCapabilities;
}

/** Why a payload cannot be run; the message names what is supported. */
export class UdfSpecError extends Error {
  override name = "UdfSpecError";
}

/**
 * Parses `UdfPayload` (format + JSON payload such as `{"fn":"echo"}`).
 * Untrusted: only known functions and plain numbers/strings are accepted.
 */
export function parseUdfSpec(format: string, payload: Uint8Array): UdfSpec {
  if (format !== DEMO_FORMAT) {
    throw new UdfSpecError(
      `unsupported UDF format "${format.slice(0, 100)}": this worker runs "${DEMO_FORMAT}"`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new UdfSpecError(`the ${DEMO_FORMAT} payload must be JSON like {"fn":"echo"}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UdfSpecError(`the ${DEMO_FORMAT} payload must be a JSON object like {"fn":"echo"}`);
  }
  const { fn, ...rest } = json as Record<string, unknown>;
  if (typeof fn !== "string" || !(DEMO_FUNCTIONS as readonly string[]).includes(fn)) {
    throw new UdfSpecError(
      `unknown fn ${fn === undefined ? "(missing)" : JSON.stringify(fn).slice(0, 100)}: supported are ${DEMO_FUNCTIONS.join(", ")}`,
    );
  }
  const params: Record<string, number> = {};
  const text: Record<string, string> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (typeof value === "number" && Number.isFinite(value)) params[key] = value;
    else if (typeof value === "string") text[key] = value.slice(0, 1000);
    else throw new UdfSpecError(`parameter "${key.slice(0, 50)}" must be a number or a string`);
  }
  const known = fn as DemoFunction;
  return { fn: known, params, text, capabilities: DEMO_CAPABILITIES[known] };
}
