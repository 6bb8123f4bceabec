// The actions feature's public surface: the host that keeps a dialog open
// across re-renders (the app's frame), the button that opens it, and the
// caller's role.
export { ActionHost } from "./components/action-host";
export { ActionButton } from "./components/action-button";
export { useWhoAmI } from "./api/use-who-am-i";
