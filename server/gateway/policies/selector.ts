/** One `key=glob` term of a selector. */
export interface SelectorTerm {
  /** `worker_id`, `udf` or `task_context.<key>`. */
  key: string;
  glob: string;
  pattern: RegExp;
}

/** Caps on what a configured selector may hold. */
export const MAX_SELECTOR_CHARS = 500;
const MAX_TERMS = 16;
const KEY = /^(worker_id|udf|task_context\.[\w.-]{1,100})$/;

/** What a selector is matched against: one session on one worker. */
export interface SelectorSubject {
  workerId: string;
  udfName: string;
  taskContext: Readonly<Record<string, string>>;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "s");
}

/**
 * Parses `worker_id=etl-*, task_context.spark.app.name=nightly-*` (every term
 * must hold; `*` is any run of characters, `?` one). Returns the terms or a
 * problem in words.
 */
export function parseSelector(text: string): SelectorTerm[] | string {
  if (text.length > MAX_SELECTOR_CHARS) return `longer than ${MAX_SELECTOR_CHARS} characters`;
  const parts = text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (parts.length > MAX_TERMS) return `more than ${MAX_TERMS} terms`;
  const terms: SelectorTerm[] = [];
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0)
      return `"${part.slice(0, 60)}" is not key=glob (keys: worker_id, udf, task_context.<key>)`;
    const key = part.slice(0, eq).trim();
    const glob = part.slice(eq + 1).trim();
    if (!KEY.test(key))
      return `unknown key "${key.slice(0, 60)}" (keys: worker_id, udf, task_context.<key>)`;
    if (glob === "") return `"${key}" has an empty value`;
    terms.push({ key, glob, pattern: globToRegExp(glob) });
  }
  return terms;
}

/** True when the selector does not narrow anything: no terms, or only `*` globs. */
export function selectsEverything(terms: readonly SelectorTerm[]): boolean {
  return terms.every((t) => /^\**$/.test(t.glob));
}

export function selectorMatches(terms: readonly SelectorTerm[], subject: SelectorSubject): boolean {
  return terms.every((t) => {
    const value =
      t.key === "worker_id"
        ? subject.workerId
        : t.key === "udf"
          ? subject.udfName
          : subject.taskContext[t.key.slice("task_context.".length)];
    return value !== undefined && t.pattern.test(value);
  });
}
