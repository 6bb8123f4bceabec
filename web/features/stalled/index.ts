// The stalled feature's public surface: every stalled session in the fleet.
export { StalledPage } from "./components/stalled-page";
