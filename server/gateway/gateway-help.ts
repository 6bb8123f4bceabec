import { defaultProberOptions } from "./heartbeats/heartbeat-prober.js";
import { defaultProbeThreads } from "./config/probe-settings.js";

/** `stallwatch gateway --help`: every flag once (server/help-text.test.ts checks). */
export const GATEWAY_HELP = `Usage: stallwatch gateway [flags]

Probes every --worker with UdfWorker.Manage(Heartbeat) once per interval,
hosts the Beam BeamFnWorkerStatus and Stallwatch agent endpoints on --grpc
(what workers call, nothing else), judges liveness and stalls, and serves the
dashboard, its Connect API, /metrics, /healthz and /readyz on --http (for
people; never on --grpc).

Every flag can also come from an environment variable (STALLWATCH_<FLAG>, e.g.
STALLWATCH_OPERATOR_TOKEN; lists comma-separated) or a JSON file (--config,
keys in camelCase). Flags win over env, env over the file.

Flags:
  --http HOST:PORT              dashboard and API, HTTP/1.1 (default 127.0.0.1:8080)
  --grpc HOST:PORT              worker-facing gRPC over h2c (default 127.0.0.1:8081)
  --worker HOST:PORT            a Spark UDF worker's Manage endpoint; repeatable
  --config FILE                 JSON configuration file
  --interval-ms N               heartbeat interval (default ${defaultProberOptions.intervalMs})
  --deadline-ms N               per-heartbeat deadline (default ${defaultProberOptions.deadlineMs})
  --unresponsive-after N        misses in a row before "unresponsive" (default ${defaultProberOptions.unresponsiveAfter})
  --probe-threads N             worker threads that probe (default: one per core, here
                                ${defaultProbeThreads()}; 0 probes on the main thread)
  --retention-ms N              round-trip and metric history kept (default 900000)
  --stall-no-progress-ms N      no progress this long = stalled (default 300000, Beam's lull)
  --stall-processing-ms N       one batch processing this long = stalled (default 300000)
  --not-moving-ms N             unchanged stack this long = "not moving" (default 10000)
  --gone-retention-ms N         workers that left stay visible as gone this long (default 3600000)
  --status-interval-ms N        sessions and thread dumps from agents and Beam harnesses
                                this often (default 10000)
  --watched-status-interval-ms N
                                ...and this often while someone watches (default 2000)
  --max-dumps-per-second N      ceiling of the fleet-wide dump budget (default 500)
  --beam-status-deadline-ms N   deadline on one Beam status request (default 3000)
  --max-beam-streams N          Beam status streams at once (default 10000)
  --max-beam-streams-per-connection N
                                ...and per HTTP/2 connection (default 4)
  --redact REGEX                also redact matches in worker text; repeatable
                                (linear-time patterns only: nested quantifiers refused)
  --agent-token TOKEN           fleet agent token (>= 16 chars; also STALLWATCH_AGENT_TOKEN);
                                without one, agents are accepted from loopback only
  --agent-token-file FILE       read the agent token from FILE
  --trust-announced-address     accept a Manage address on another host than the agent
  --max-agents N                agent streams at once (default 10000)
  --max-worker-connections-per-address N
                                connections one address may hold on --grpc; more are
                                closed on accept (default 64; raise it behind NAT)
  --agent-pending-memory-mib N  memory agent streams may hold before they join, all
                                together; over it they get ResourceExhausted (default 64)
  --agent-admissions-per-turn N agent streams admitted per event-loop turn (default 32)
  --db PATH|URL                 SQLite database (default ./.stallwatch/stallwatch.db;
                                created 0600, its directory 0700), or postgres://… URL
  --worker-dns NAME:PORT        one static worker per address NAME resolves to,
                                re-resolved every --dns-interval-ms; repeatable
  --dns-interval-ms N           how often --worker-dns names are resolved again
                                (default 30000)
  --shutdown-grace-ms N         on SIGTERM, time requests in flight get (default 5000)
  --reconcile-wait-ms N         at start, time a worker gets to come back so an action
                                a previous process left running can be settled (default 15000)
  --store-check-ms N            database write probe interval (default 5000)
  --snapshot-retention-days N   default 30
  --event-retention-days N      default 7
  --audit-retention-days N      default 90
  --operator-token TOKEN        bearer token that grants the operator role (>= 16
                                characters; visible in ps: prefer the file or env)
  --operator-token-file FILE    read the operator token from FILE
  --viewer-token TOKEN          bearer token that may list snapshots (>= 16 characters)
  --viewer-token-file FILE      read the viewer token from FILE
  --identity-header NAME        trusted auth proxy's user header (operator identity);
                                honoured only from --trusted-proxy peers
  --trusted-proxy CIDR          peers whose identity header counts (e.g. 10.0.0.5/32,
                                fd00::/8); repeatable; required with --identity-header
  --allowed-host HOST[:PORT]    another name the dashboard is reached by (besides the
                                bound address and localhost); repeatable
  --allowed-origin URL          another origin allowed to call the API; repeatable
  --snapshots-per-minute N      snapshots one caller may create per minute (default 10)
  --snapshots-per-minute-total N  snapshots everyone together may create (default 60)
  --web-root DIR                built dashboard to serve (default: dist/web)
  --public-url URL              where people reach the dashboard, for alert and
                                notification links (default: the bound address)

Notifications (README "Alerts, dashboard and notifications"):
  --notify-webhook [slack=|json=]URL  POST worker unresponsive/gone, session stalled,
                                action outcomes and recoveries there; repeatable
  --notify-secret SECRET        HMAC-SHA256 key of JSON webhooks (>= 16 characters;
                                prefer the file or STALLWATCH_NOTIFY_SECRET)
  --notify-secret-file FILE     read the notify secret from FILE
  --notify-allow-private        allow webhooks on loopback, link-local or metadata
                                addresses (refused by default)
  --notify-per-minute N         messages per minute at most, all kinds (default 30)
  --notify-timeout-ms N         deadline of one webhook request (default 5000)

Remediation policies (README "Remediation policies"):
  --policy-file FILE            YAML or JSON policies that cancel or drain stuck work
                                (dry run unless a policy says mode: enforce); a malformed
                                or match-all policy stops the start (exit 2); SIGHUP
                                reads it again (a broken file changes nothing)

Cluster (several gateways on one PostgreSQL; README "Running a cluster"):
  --cluster-token TOKEN         shared by the gateways (>= 16 characters); joins a cluster
  --cluster-token-file FILE     read the cluster token from FILE
  --gateway-id ID               this gateway's name in the cluster (default host-pid-random)
  --peer HOST:PORT              gateway-to-gateway listener (default 127.0.0.1:8082)
  --advertise-peer URL          how peers reach --peer (default http://<--peer>)
  --lease-ms N                  membership lease (default 10000)
  --cluster-interval-ms N       lease renewal and member refresh (default 2000)
  -h, --help                    show this help

Bound beyond loopback without --operator-token or --identity-header, the
gateway is read-only (actions disabled) and says so in its log.

Exit codes: 0 stopped by SIGINT/SIGTERM, 1 fatal fault, 2 bad flags or
configuration, 3 the database cannot be opened or written.`;
