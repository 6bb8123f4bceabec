/** Profiles: py-spy's table and the exports, from a ProfileResult (docs/profiles.md). */
export { profileRows, type ProfileRow } from "./api/profile-table.js";
export { collapsedStacks, speedscopeJson } from "./api/profile-export.js";
