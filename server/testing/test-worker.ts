import { Liveness } from "../../gen/stallwatch/v1/fleet_pb.js";
import { flagArgs, type CliFlags } from "./cli-flags.js";
import { startStallwatch, type StallwatchProcess, type StartOptions } from "./spawn-stallwatch.js";
import { fleetClient, waitForLiveness } from "./fleet-client.js";

/** What a test says about the reference `stallwatch worker` it starts. */
export interface TestWorkerOptions {
  /** --id; without it the worker names itself after its address. */
  id?: string;
  /** --gateway: the gRPC address its agent dials; without it, Manage only. */
  gateway?: string;
  /** Any other worker flag (`{ "cancel-grace-ms": 800 }`). */
  flags?: CliFlags;
}

/** A started worker with the address it bound. */
export interface TestWorker extends StallwatchProcess {
  /** Its Manage/Execute address, HOST:PORT: what a gateway's --worker names. */
  address: string;
}

/** The argv of `stallwatch worker` on 127.0.0.1:0 for `options`. */
export function testWorkerArgs({ id, gateway, flags }: TestWorkerOptions = {}): string[] {
  return [
    ...["worker", "--listen", "127.0.0.1:0"],
    ...(id === undefined ? [] : ["--id", id]),
    ...(gateway === undefined ? [] : ["--gateway", gateway]),
    ...flagArgs(flags),
  ];
}

/** Starts a reference worker process on an ephemeral port and waits until it listens. */
export async function startTestWorker(
  options: TestWorkerOptions & StartOptions = {},
): Promise<TestWorker> {
  // Each half reads only its own keys.
  const process = await startStallwatch(testWorkerArgs(options), options);
  return Object.assign(process, { address: String(process.listening.address) });
}

/** Starts one worker per id, all at once, in the order given. */
export async function startTestWorkers<const Ids extends readonly string[]>(
  ids: Ids,
  options: Omit<TestWorkerOptions, "id"> & StartOptions = {},
): Promise<{ -readonly [K in keyof Ids]: TestWorker }> {
  const workers = await Promise.all(ids.map((id) => startTestWorker({ ...options, id })));
  // Promise.all keeps the order and the length: one worker per id.
  return workers as { -readonly [K in keyof Ids]: TestWorker };
}

/**
 * Starts worker `id` with its agent dialling `gateway`, and waits (up to
 * `healthyWithinMs`, default 10 s) until the gateway lists it healthy.
 */
export async function startHealthyAgent(
  gateway: { http: string; grpc: string },
  id: string,
  {
    healthyWithinMs,
    ...options
  }: Omit<TestWorkerOptions, "id" | "gateway"> & StartOptions & { healthyWithinMs?: number } = {},
): Promise<TestWorker> {
  const worker = await startTestWorker({ ...options, id, gateway: gateway.grpc });
  await waitForLiveness(fleetClient(gateway.http), id, Liveness.HEALTHY, healthyWithinMs);
  return worker;
}
