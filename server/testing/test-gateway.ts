import { flagArgs, type CliFlags } from "./cli-flags.js";
import { startStallwatch, type StallwatchProcess, type StartOptions } from "./spawn-stallwatch.js";

/** What a test says about the `stallwatch gateway` it starts; the rest is defaulted. */
export interface TestGatewayOptions {
  /** --http (default 127.0.0.1:0); a restart passes the address it had. */
  http?: string;
  /** --grpc (default 127.0.0.1:0). */
  grpc?: string;
  /** --db; by default each process gets a fresh temporary database (`startStallwatch`). */
  db?: string;
  /** Static --worker targets, probed over Manage. */
  workers?: readonly string[];
  /** --operator-token; without it (and without a token env), the API is open. */
  operatorToken?: string;
  /** Any other gateway flag (`{ "interval-ms": 300 }`). */
  flags?: CliFlags;
}

/** A started gateway with the addresses it bound. */
export interface TestGateway extends StallwatchProcess {
  /** Its HTTP (browser API) address, HOST:PORT. */
  http: string;
  /** Its worker-facing gRPC address, HOST:PORT. */
  grpc: string;
}

/** The argv of `stallwatch gateway` for `options` (also for `runStallwatch`). */
export function testGatewayArgs({
  http = "127.0.0.1:0",
  grpc = "127.0.0.1:0",
  db,
  workers = [],
  operatorToken,
  flags,
}: TestGatewayOptions = {}): string[] {
  return [
    ...["gateway", "--http", http, "--grpc", grpc],
    ...(db === undefined ? [] : ["--db", db]),
    ...(operatorToken === undefined ? [] : ["--operator-token", operatorToken]),
    ...workers.flatMap((w) => ["--worker", w]),
    ...flagArgs(flags),
  ];
}

/**
 * Starts a real gateway process on ephemeral ports (unless told otherwise)
 * and waits until it listens.
 */
export async function startTestGateway(
  options: TestGatewayOptions & StartOptions = {},
): Promise<TestGateway> {
  // Each half reads only its own keys.
  const process = await startStallwatch(testGatewayArgs(options), options);
  return Object.assign(process, {
    http: String(process.listening.http),
    grpc: String(process.listening.grpc),
  });
}
