// The gateway's layers, lowest first (docs/architecture.md, "Rules the check
// enforces"). A folder may import its own layer and the ones below it, never
// one above: .dependency-cruiser.cjs turns this list into rules, and
// scripts/check-imports.js fails on a gateway folder missing from it. The
// root files (gateway.ts and the files that start it) sit above every layer.
module.exports = [
  // Leaves: words, storage and parsers that know nothing of the fleet.
  ["auth", "beam-text", "events", "redaction", "store"],
  // The one writer of worker state.
  ["fleet"],
  // What feeds the fleet: probes, dial-in endpoints, stall rules, metrics, readiness.
  ["agent-endpoint", "beam-endpoint", "heartbeats", "process-lifecycle", "metrics", "stalls"],
  // When to ask for dumps and what an answer means.
  ["status-intake"],
  // What people call or are told: actions, snapshots, the people's listener
  // and its FleetService, outgoing notifications.
  ["actions", "http", "notifications", "profiles", "snapshots"],
  // Remediation policies: act through actions, with snapshots as evidence.
  ["policies"],
  // Many gateways as one.
  ["cluster"],
  // Settings read once at start, from every layer's options; the backup
  // command, which reads the store's settings.
  ["backup", "config"],
];
