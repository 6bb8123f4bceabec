// Import direction for the whole repo, checked by `npm run check`
// (scripts/check-imports.js, which also finds cycles between folders and
// between features).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- dependency-cruiser reads CommonJS config
const gatewayLayers = require("./scripts/gateway-layers.cjs");

/** An error-level rule: imports from `from` to `to` are forbidden. */
const forbid = (name, from, to, comment) => ({ name, severity: "error", comment, from, to });

/**
 * One rule per gateway layer: its folders never import a folder of a higher
 * layer, nor the gateway's root files.
 */
const layerRules = gatewayLayers.map((layer, i) => {
  const above = gatewayLayers.slice(i + 1).flat();
  const alternatives = above.map((f) => `${f}/`).concat("[^/]+$");
  return forbid(
    `gateway-layer-${layer.join("-")}`,
    { path: `^server/gateway/(${layer.join("|")})/` },
    { path: `^server/gateway/(${alternatives.join("|")})` },
    `The gateway's layering (scripts/gateway-layers.cjs): ${layer.join(", ")} may not import a higher layer.`,
  );
});

/**
 * The fleet's writers: the only files that hold \`Fleet\` with its write
 * operations. Everyone else reads through \`fleet/fleet-reader.ts\`. Files
 * that only pass the fleet on to a writer (the runner, the services) are
 * listed because they build that writer.
 */
const fleetWriters = [
  "gateway\\.ts",
  "worker-endpoints\\.ts",
  "actions/action-(runner|steps|ops)\\.ts",
  "agent-endpoint/agent-(adopt|service|stream)\\.ts",
  "beam-endpoint/beam-status-service\\.ts",
  "heartbeats/heartbeat-prober\\.ts",
  "stalls/stall-watch\\.ts",
  "status-intake/status-(collector|ingest)\\.ts",
  "fleet/[^/]+\\.ts",
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    forbid(
      "fleet-writers-are-named",
      { path: "^server/gateway/", pathNot: `^server/gateway/(${fleetWriters.join("|")})$` },
      { path: "^server/gateway/fleet/fleet\\.ts$" },
      "Only the fleet's named writers hold Fleet (.dependency-cruiser.cjs fleetWriters); readers take FleetReader.",
    ),
    {
      ...forbid(
        "no-folder-cycles",
        { path: "^(server|web)/" },
        { circular: true },
        "Two folders that import each other are one feature pretending to be two.",
      ),
      scope: "folder",
    },
    forbid("no-file-cycles", { path: "^(server|web)/" }, { circular: true }),
    forbid(
      "programs-stay-apart",
      { path: "^server/(gateway|worker|engine|demo)/" },
      { path: "^server/(gateway|worker|engine|demo)/", pathNot: "^server/$1/" },
      "The gateway, the reference worker, the engine and the demo only meet in server/shared/ " +
        "(and in server/main.ts, which starts them, and server/testing/, which runs them).",
    ),
    forbid(
      "shared-is-a-leaf",
      { path: "^server/shared/" },
      { path: "^server/(gateway|worker|engine|demo|testing)/" },
    ),
    forbid(
      "web-reuses-only-shared-words",
      { path: "^web/" },
      { path: "^server/", pathNot: "^server/shared/words/" },
      "The SPA may reuse pure server code only from server/shared/words/ (session-state words, the snapshot summary).",
    ),
    forbid("server-never-imports-web", { path: "^server/" }, { path: "^web/" }),
    forbid(
      "product-code-never-imports-tests",
      { path: "^(server|web)/", pathNot: "/testing/" },
      { path: "/testing/" },
    ),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Tests may reach across folders (a test of the whole CLI, a harness that
    // starts every program); the rules are about the product's own imports.
    exclude: { path: "(^(gen|node_modules|dist)/)|([.]test[.]tsx?$)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.server.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js"] },
  },
};
