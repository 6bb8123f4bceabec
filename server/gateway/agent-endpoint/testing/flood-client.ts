// A flood of agent streams from one client process, for hostile-peer tests:
// `node flood-client.js GRPC CONNECTIONS STREAMS_PER_CONNECTION [FROM]` (FROM: the
// loopback address to connect from, e.g. 127.0.0.2). Opens every
// stream at once (announcing flood-<c>-<s>, answering nothing), prints one
// JSON line {"open":N,"admitted":N,"refused":{code:count},"refusedIds":[...]}
// ("admitted": got a status request, even if closed since) once every
// stream is either refused or admitted (it got its first status request) or
// after MAX_SETTLE_MS, then holds the open streams until stdin closes or SIGTERM.
import { Code } from "@connectrpc/connect";
import { rogueConnection, startRogueAgent } from "./rogue-agent.js";

const MAX_SETTLE_MS = 30_000;
const [grpc = "", connArg = "200", streamArg = "10", from] = process.argv.slice(2);
const connections = Array.from({ length: Number(connArg) }, () => rogueConnection(grpc, from));
const results = new Map<string, Code | "ok" | "open">();
const agents: ReturnType<typeof startRogueAgent>[] = [];
connections.forEach((c, ci) => {
  for (let s = 0; s < Number(streamArg); s++) {
    const id = `flood-${ci}-${s}`;
    results.set(id, "open");
    const agent = startRogueAgent(c.transport, { workerId: id }, { timeoutMs: 120_000 });
    agents.push(agent);
    void agent.ended.then((r) => results.set(id, r.code));
  }
});
const startedAt = Date.now();
const settled = () =>
  agents.every((a, i) => a.requests.length > 0 || [...results.values()][i] !== "open");
const check = setInterval(() => {
  if (!settled() && Date.now() - startedAt < MAX_SETTLE_MS) return;
  clearInterval(check);
  const refused: Record<string, number> = {};
  const refusedIds: string[] = [];
  let open = 0;
  for (const [id, r] of results) {
    if (r === "open") open += 1;
    else {
      const name = r === "ok" ? "ok" : Code[r];
      refused[name] = (refused[name] ?? 0) + 1;
      refusedIds.push(id);
    }
  }
  const admitted = agents.filter((a) => a.requests.length > 0).length;
  process.stdout.write(JSON.stringify({ open, admitted, refused, refusedIds }) + "\n");
}, 250);
const end = () => {
  for (const c of connections) c.close();
  process.exit(0);
};
process.stdin.on("end", end);
process.stdin.resume();
process.on("SIGTERM", end);
