/**
 * Redaction of secrets in worker text before it is stored or served: thread
 * names, frames and states, Beam status text, task context keys and values,
 * session ids, UDF names, error messages and hosts (see
 * server/gateway/agent-endpoint/agent-ingest.ts for where each is applied). Each pattern's
 * match becomes `[REDACTED]`, keeping the `key` group so the reader still
 * sees what was there.
 *
 * Worker text is untrusted, so every default pattern runs in linear time:
 * a match may only start where the previous character cannot continue it
 * (lookbehind), and every quantifier before the secret is bounded, so a
 * failed attempt costs a constant and a successful one consumes what it read.
 * The 40 KB run of `a` that took 5 s with the old patterns is the case pinned
 * by redact.test.ts and measured in bench/edge-redact.bench.ts.
 */
export type Redactor = (text: string) => string;

/** Names that mark the value after them as a secret (lower case, regex source). */
const SECRET_WORDS = String.raw`(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|(?:account|storage|encryption)[_-]?key|credentials?)`;
/**
 * The part of a dotted configuration key that makes its value a credential,
 * as Spark's `spark.redaction.regex` and Hadoop's
 * `hadoop.security.sensitive-config-keys` judge it: a segment naming a
 * password, secret, token or credential (`keyStorePassword`,
 * `oauth2.client.secret`, `session.token`), or a pair naming a key
 * (`secret.key`, `access.key`, `account.key`, `private.key`,
 * `encryption.key`, `server-side-encryption.key`), or an Azure SAS entry
 * (`fs.azure.sas.<container>.<account>…`). `credentials.provider`,
 * `keyStore` and `json.keyfile` are class names and paths, not secrets, and
 * stay readable (redact.test.ts holds the table of real keys).
 */
const DOTTED_SECRET = String.raw`(?:[\w-]{0,32}(?:password|passwd|secret|token)[\w-]{0,32}|credentials?(?!\.provider)|[\w-]{0,32}(?:secret|access|account|private|encryption)\.key|sas)(?=[.\s"'=:])`;

/** What a secret value is made of: up to a quote, separator or bracket. */
const VALUE = String.raw`[^\s"',;&)(\]\[}{<>]+`;

export const DEFAULT_REDACTION_PATTERNS: readonly string[] = [
  // Authorization: Bearer xxx / bearer xxx, and Authorization: Basic xxx (first, so
  // key=value below does not take "Bearer" as the value and leave the token)
  String.raw`(?<key>(?<![A-Za-z])(?:bearer|authorization:[ \t]{0,8}basic)[ \t]{1,8})[A-Za-z0-9._~+/=-]+`,
  // key=value / key: value / "key": "value" / KEY=value (env style, e.g. DB_PASSWORD=x)
  String.raw`(?<key>(?<!\w)\w{0,32}${SECRET_WORDS}\w{0,32}["']?[ \t]{0,8}[=:][ \t]{0,8}["']?)${VALUE}`,
  // --flag value and -flag value, e.g. --token abc123, --db-password s3cret
  String.raw`(?<key>(?<![\w-])--?[\w-]{0,32}${SECRET_WORDS}[\w-]{0,32}[ \t]{1,8})(?!-)${VALUE}`,
  // scheme://user:password@host (the user part cannot cross '/', so attempts never overlap)
  String.raw`(?<key>(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]{0,31}://[^/\s:@]{0,256}:)[^@\s/]{1,256}(?=@)`,
  // AWS access key ids
  String.raw`(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])`,
  // Dotted configuration keys (Spark, Hadoop: spark.hadoop.fs.s3a.secret.key = x,
  // fs.azure.account.key.<acct>.dfs.core.windows.net = x), see DOTTED_SECRET.
  // Segments cannot contain '.', so the split is unambiguous and each bound
  // caps the work per start. The separator is '=', or ':' followed by a space
  // or quote (YAML, JSON): never a bare ':', so frames such as
  // TokenManager.java:88 and /src/token.go:45 stay readable.
  String.raw`(?<key>(?<![\w.-])(?:[\w-]{1,64}\.){0,16}${DOTTED_SECRET}(?:\.[\w-]{1,64}){0,16}["']?[ \t]{0,8}(?:=|:(?=[ \t"']))[ \t]{0,8}["']?)${VALUE}`,
  // Oracle thin JDBC URLs: jdbc:oracle:thin:scott/tiger@//db:1521/orcl
  String.raw`(?<key>(?<![\w.-])jdbc:oracle:[a-z]{1,16}:[^/\s:@"']{1,128}/)[^@\s"']{1,256}(?=@)`,
];

/**
 * Flags a pattern whose running time can blow up: a quantified group that
 * itself contains an unbounded quantifier (`(a+)+`, `(\w*x)*`), or a
 * backreference. A heuristic, not a proof: it catches the classic shapes so
 * a `redactionPatterns` entry cannot freeze the gateway by accident.
 * Returns why the pattern is refused, or undefined.
 */
export function unsafePatternReason(source: string): string | undefined {
  if (/\\[1-9]|\\k</.test(source)) return "backreferences are not allowed";
  /** Per open group: does it contain an unbounded quantifier? */
  const open: boolean[] = [];
  const quantifierAt = (i: number): "unbounded" | "bounded" | undefined => {
    const c = source[i];
    if (c === "*" || c === "+") return "unbounded";
    const brace = /^\{\d*(,\d*)?\}/.exec(source.slice(i, i + 24));
    if (!brace) return c === "?" ? "bounded" : undefined;
    return brace[1] === "," ? "unbounded" : "bounded";
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      i++;
    } else if (c === "[") {
      // A character class: quantifier characters inside it are literals.
      i++;
      while (i < source.length && source[i] !== "]") i += source[i] === "\\" ? 2 : 1;
    } else if (c === "(") {
      open.push(false);
    } else if (c === ")") {
      const inner = open.pop() ?? false;
      const q = quantifierAt(i + 1);
      if (inner && q !== undefined && source[i + 1] !== "?")
        return "a quantified group contains an unbounded quantifier (nested quantifiers)";
      if ((inner || q === "unbounded") && open.length > 0) open[open.length - 1] = true;
    } else if (quantifierAt(i) === "unbounded" && open.length > 0) {
      open[open.length - 1] = true;
    }
  }
  return undefined;
}

/**
 * Builds a redactor from regex sources (case-insensitive); a `key` group is
 * kept. The defaults are linear-time by construction; extra patterns should
 * be too (check them with {@link unsafePatternReason}, as the gateway's
 * config loader does).
 */
export function createRedactor(patterns: readonly string[] = DEFAULT_REDACTION_PATTERNS): Redactor {
  // A replacement string, not a callback: V8 substitutes it without a call
  // per match, which is what keeps match-dense input near typical cost.
  const compiled = patterns.map((p) => {
    const re = new RegExp(p, "gi");
    return { re, replacement: /\(\?<key>/.test(p) ? "$<key>[REDACTED]" : "[REDACTED]" };
  });
  return (text) => {
    let out = text;
    for (const { re, replacement } of compiled) out = out.replace(re, replacement);
    return out;
  };
}
