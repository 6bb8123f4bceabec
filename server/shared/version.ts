/** Reported by agents in their Announce; kept in step with package.json. */
export const STALLWATCH_VERSION = "0.1.0";
