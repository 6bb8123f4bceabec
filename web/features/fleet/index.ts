// The fleet feature's public surface: the live page, and the views a
// snapshot renders from stored workers.
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./fleet.css";
export { FleetPage } from "./components/fleet-page";
export { FleetTable } from "./components/fleet-table";
export { IncidentBanner, type BannerLinks } from "./components/incident-banner";
export { findIncident, viewFleet } from "./api/fleet-view";
