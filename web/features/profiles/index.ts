// The profiles feature's public surface: the "Profile" button (worker page),
// the profile's page (its route), the read-only result view (a snapshot's
// permalink), and the pure table and exports.
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./profiles.css";
export { ProfileButton } from "./components/profile-button";
export { ProfilePage } from "./components/profile-page";
export { ProfileResultView } from "./components/profile-result-view";
export { profileRows, type ProfileRow } from "./api/profile-table";
export { collapsedStacks, speedscopeJson } from "./api/profile-export";
