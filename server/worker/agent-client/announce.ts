import { create } from "@bufbuild/protobuf";
import {
  AnnounceSchema,
  ConnectRequestSchema,
  type ConnectRequest,
} from "../../../gen/stallwatch/v1/agent_pb.js";

/** Who the worker is, sent as the `Announce` that opens every connection. */
export interface AgentAnnounce {
  /** 1-128 letters, digits or `. _ : @ -` (the gateway refuses anything else). */
  workerId: string;
  /** host:port of the worker's `UdfWorker.Manage` endpoint; empty or absent when it has none. */
  manageAddress?: string;
  pid: number;
  host: string;
  /** e.g. "node v20.20.2". */
  runtime: string;
  version: string;
  startedAtMs: number | bigint;
  /** e.g. "sessions", "thread-dump", "cancel-session". */
  capabilities: string[];
}

/** What the gateway accepts as Announce.worker_id (gateway/agent-endpoint). */
const WORKER_ID = /^[\w.:@-]{1,128}$/;

export function isAcceptedWorkerId(workerId: string): boolean {
  return WORKER_ID.test(workerId);
}

/** The `Announce` that opens every connection. */
export function announceRequest(announce: AgentAnnounce): ConnectRequest {
  return create(ConnectRequestSchema, {
    message: {
      case: "announce",
      value: create(AnnounceSchema, {
        ...announce,
        manageAddress: announce.manageAddress ?? "",
        startedAtMs: BigInt(announce.startedAtMs),
      }),
    },
  });
}
