// The policies feature's public surface: the page that shows remediation
// policies, their decisions and the fleet-wide dry-run switch.
import "./policies.css";
export { PoliciesPage } from "./components/policies-page";
