// The audit feature's public surface: who did what, and fleet events.
export { AuditPage } from "./components/audit-page";
export { EventsPage } from "./components/events-page";
