import { connect } from "node:net";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  AgentService,
  AnnounceSchema,
  ConnectRequestSchema,
  StatusReportSchema,
  type ConnectRequest,
  type StatusReport,
  type StatusRequest,
} from "../../../../gen/stallwatch/v1/agent_pb.js";

/** A hand-driven agent stream: announces whatever the test says and answers as told. */
export interface RogueAgent {
  /** Settles when the gateway ends the stream: OK, or the refusal's code and message. */
  ended: Promise<{ code: Code | "ok"; message: string }>;
  /** Status requests the gateway has sent so far. */
  requests: StatusRequest[];
  close(): void;
}

/**
 * One HTTP/2 connection that many rogue agents can share (the "one client" of
 * a flood), from loopback address `from` when given (127.0.0.2 stands for
 * another host than the honest workers on 127.0.0.1).
 */
export function rogueConnection(
  grpcAddress: string,
  from?: string,
): {
  transport: ReturnType<typeof createGrpcTransport>;
  close(): void;
} {
  const colon = grpcAddress.lastIndexOf(":");
  const host = grpcAddress.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = grpcAddress.slice(colon + 1);
  const sessions = new Http2SessionManager(
    `http://${grpcAddress}`,
    undefined,
    from === undefined
      ? undefined
      : { createConnection: () => connect({ host, port: Number(port), localAddress: from }) },
  );
  const transport = createGrpcTransport({
    baseUrl: `http://${grpcAddress}`,
    sessionManager: sessions,
  });
  return { transport, close: () => sessions.abort() };
}

/**
 * Opens `AgentService.Connect` on `transport` and sends `announce`. Each
 * status request is answered with `answer(request)` unless it returns
 * undefined (a peer that never answers).
 */
export function startRogueAgent(
  transport: ReturnType<typeof createGrpcTransport>,
  announce: MessageInitShape<typeof AnnounceSchema>,
  {
    token,
    answer,
    unsolicited = [],
    timeoutMs = 60_000,
  }: {
    token?: string;
    /** Reports sent right after the Announce, answering nothing. */
    unsolicited?: MessageInitShape<typeof StatusReportSchema>[];
    answer?: (request: StatusRequest) => MessageInitShape<typeof StatusReportSchema> | undefined;
    timeoutMs?: number;
  } = {},
): RogueAgent {
  const client = createClient(AgentService, transport);
  const abort = new AbortController();
  const outbox: ConnectRequest[] = unsolicited.map((report) =>
    create(ConnectRequestSchema, {
      message: { case: "status", value: create(StatusReportSchema, report) },
    }),
  );
  let wake: (() => void) | undefined;
  const requests: StatusRequest[] = [];
  async function* send(): AsyncGenerator<ConnectRequest> {
    yield create(ConnectRequestSchema, {
      message: { case: "announce", value: create(AnnounceSchema, announce) },
    });
    while (!abort.signal.aborted) {
      const next = outbox.shift();
      if (next) yield next;
      else await new Promise<void>((r) => (wake = r));
    }
  }
  abort.signal.addEventListener("abort", () => wake?.());
  const ended = (async () => {
    try {
      for await (const message of client.connect(send(), {
        signal: abort.signal,
        timeoutMs,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })) {
        if (message.message.case !== "statusRequest") continue;
        const request = message.message.value;
        requests.push(request);
        const report = answer?.(request);
        if (!report) continue;
        const value: StatusReport = create(StatusReportSchema, {
          ...report,
          requestId: request.requestId,
        });
        outbox.push(create(ConnectRequestSchema, { message: { case: "status", value } }));
        wake?.();
      }
      return { code: "ok" as const, message: "" };
    } catch (err) {
      const e = ConnectError.from(err);
      return { code: e.code, message: e.rawMessage };
    }
  })();
  return { ended, requests, close: () => abort.abort() };
}
