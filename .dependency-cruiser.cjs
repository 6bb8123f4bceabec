// Import direction for the whole repo, checked by `npm run check` (depcruise).
// The folder-cycle rule is the one issue 12 asks for: a new cycle between
// two folders fails the check, not just a cycle between two files.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-folder-cycles",
      comment: "Two folders that import each other are one feature pretending to be two.",
      severity: "error",
      scope: "folder",
      from: { path: "^(server|web)/" },
      to: { circular: true },
    },
    {
      name: "no-file-cycles",
      severity: "error",
      from: { path: "^(server|web)/" },
      to: { circular: true },
    },
    {
      name: "programs-stay-apart",
      comment:
        "The gateway, the reference worker, the engine and the demo only meet in server/shared/ " +
        "(and in server/main.ts, which starts them, and server/testing/, which runs them).",
      severity: "error",
      from: { path: "^server/(gateway|worker|engine|demo)/", pathNot: "[.]test[.]ts$" },
      to: { path: "^server/(gateway|worker|engine|demo)/", pathNot: "^server/$1/" },
    },
    {
      name: "shared-is-a-leaf",
      severity: "error",
      from: { path: "^server/shared/" },
      to: { path: "^server/(gateway|worker|engine|demo|testing)/" },
    },
    {
      name: "web-reuses-only-shared-words",
      comment:
        "The SPA may reuse pure server code only from server/shared/words/ (session-state words, the snapshot summary).",
      severity: "error",
      from: { path: "^web/" },
      to: { path: "^server/", pathNot: "^server/shared/words/" },
    },
    {
      name: "server-never-imports-web",
      severity: "error",
      from: { path: "^server/" },
      to: { path: "^web/" },
    },
    {
      name: "product-code-never-imports-tests",
      severity: "error",
      from: { path: "^(server|web)/", pathNot: "/testing/" },
      to: { path: "/testing/" },
    },
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
