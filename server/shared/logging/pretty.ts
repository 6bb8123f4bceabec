/**
 * One pino JSON entry as one short human line:
 * `13:22:15 WARN  demo-4  liveness changed  worker=demo-4 to=gone reason="connection refused"`.
 * For terminals only; files and pipes keep JSON. Values are clipped, so a
 * huge or hostile field cannot flood the terminal.
 */
const LEVELS: Record<number, { name: string; color: string }> = {
  10: { name: "TRACE", color: "\x1b[90m" },
  20: { name: "DEBUG", color: "\x1b[90m" },
  30: { name: "INFO ", color: "\x1b[36m" },
  40: { name: "WARN ", color: "\x1b[33m" },
  50: { name: "ERROR", color: "\x1b[31m" },
  60: { name: "FATAL", color: "\x1b[41m" },
};
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
/** Fields every line has, or that the line shows elsewhere. */
const SKIP = new Set(["level", "time", "pid", "hostname", "msg", "name", "child", "v"]);
const MAX_VALUE = 160;
const MAX_FIELDS = 12;

/** Control characters (a worker's string could clear the screen): code points below 32, and DEL. */
function printable(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += code < 32 || code === 127 ? " " : ch;
  }
  return out;
}

function asText(value: unknown): string {
  if (typeof value === "string") return value;
  // Parsed JSON holds no functions; undefined is the one value JSON.stringify drops.
  return value === undefined ? "" : JSON.stringify(value);
}

function show(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = /[\s="]/.test(value) ? JSON.stringify(value) : value;
  else if (value !== null && typeof value === "object" && "message" in value)
    text = JSON.stringify(asText(value.message));
  else text = asText(value);
  text = printable(text.length > MAX_VALUE * 2 ? text.slice(0, MAX_VALUE * 2) : text);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

export function formatPretty(entry: Record<string, unknown>, color = true): string {
  const level = LEVELS[typeof entry.level === "number" ? entry.level : 30];
  const time = new Date(typeof entry.time === "number" ? entry.time : Date.now())
    .toTimeString()
    .slice(0, 8);
  const who = asText(entry.child ?? entry.name);
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .slice(0, MAX_FIELDS)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(" ");
  const msg = printable(asText(entry.msg).slice(0, 300));
  const lvl = color ? `${level?.color ?? ""}${level?.name ?? ""}${RESET}` : (level?.name ?? "");
  const rest = fields ? `  ${color ? DIM : ""}${fields}${color ? RESET : ""}` : "";
  return `${time} ${lvl} ${who.padEnd(12)} ${msg}${rest}`;
}
