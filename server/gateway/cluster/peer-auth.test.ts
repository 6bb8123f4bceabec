import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  GatherShardResponseSchema,
  ClusterService,
} from "../../../gen/stallwatch/v1/cluster_pb.js";
import { requireClusterToken, sendClusterToken } from "./peer-auth.js";

const TOKEN = "the-cluster-token-0123456789";

function peer(clientToken: string | undefined) {
  const transport = createRouterTransport(
    (router) =>
      router.service(ClusterService, {
        gatherShard: () => create(GatherShardResponseSchema, { gatewayId: "gw-x" }),
      }),
    {
      router: { interceptors: [requireClusterToken(TOKEN)] },
      transport: { interceptors: clientToken ? [sendClusterToken(clientToken)] : [] },
    },
  );
  return createClient(ClusterService, transport);
}

describe("gateway-to-gateway auth", () => {
  it("answers a peer with the cluster token", async () => {
    expect((await peer(TOKEN).gatherShard({})).gatewayId).toBe("gw-x");
  });

  it("refuses a caller without it, or with another token, as Unauthenticated", async () => {
    for (const token of [undefined, "x", `${TOKEN}x`]) {
      const err = await peer(token)
        .gatherShard({})
        .catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    }
  });
});
