// The actions feature's public surface: the host that keeps a dialog open
// across re-renders (the app's frame), the button that opens it, and the
// caller's role.
// The feature's styles travel with its public surface (Vite bundles CSS imports).
import "./actions.css";
export { ActionHost } from "./components/action-host";
export { ActionButton } from "./components/action-button";
export { useWhoAmI } from "./api/use-who-am-i";
