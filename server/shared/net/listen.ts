import type { Server } from "node:net";
import { UsageError } from "../cli/usage-error.js";
import { formatHostPort, type HostPort } from "./host-port.js";

/**
 * Listens and resolves with the bound address (port 0 becomes the real port).
 * "Address in use" and "cannot bind" are usage problems, so they surface as
 * UsageError (exit code 2) naming the flag.
 */
export function listen(server: Server, at: HostPort, flagName: string): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const where = formatHostPort(at);
      if (err.code === "EADDRINUSE")
        reject(new UsageError(`--${flagName}: ${where} is already in use`));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "EACCES" || err.code === "ENOTFOUND")
        reject(new UsageError(`--${flagName}: cannot listen on ${where} (${err.code})`));
      else reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error("listener has no TCP address"));
        return;
      }
      resolve({ host: address.address, port: address.port });
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(at.port, at.host);
  });
}

/** Closes a server, destroying idle keep-alive connections, within `timeoutMs`. */
export function closeServer(
  server: Server & { closeAllConnections?: () => void },
  timeoutMs = 2000,
): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeAllConnections?.();
  });
}
