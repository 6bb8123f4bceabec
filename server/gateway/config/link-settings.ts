import { textSettings, type SettingReader } from "./setting-reader.js";

/**
 * Where people reach the dashboard, for links that leave the gateway (alert
 * annotations through `stallwatch_gateway_info`, notifications): behind a
 * proxy or a load balancer the bound address is not it.
 */
export const LINK_SETTINGS = textSettings("public-url");

export interface LinkSettings {
  /** `--public-url`, without a trailing slash; undefined = the bound address. */
  publicUrl: string | undefined;
}

/** `text` as an http(s) URL, or undefined when it is not one. */
export function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return /^https?:$/.test(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

export function loadLinkSettings(
  read: Pick<SettingReader<keyof typeof LINK_SETTINGS>, "text">,
  problems: string[],
): LinkSettings {
  const text = read.text("public-url");
  if (text === undefined) return { publicUrl: undefined };
  const url = httpUrl(text);
  if (!url || url.search || url.hash) {
    problems.push(`--public-url "${text}": expected http(s)://host[:port][/path]`);
    return { publicUrl: undefined };
  }
  return { publicUrl: url.href.replace(/\/+$/, "") };
}
