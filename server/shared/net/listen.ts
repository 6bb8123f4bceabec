import type { Server } from "node:net";
import { formatHostPort, type HostPort } from "./host-port.js";

/**
 * The address named by a flag cannot be bound (in use, not ours, not
 * allowed). A problem with how the command was invoked, not a fault: the CLI
 * treats it like a usage error (message, exit code 2). Its own type so that
 * net/ does not depend on cli/ (cli/ parses addresses with net/).
 */
export class ListenError extends Error {
  override name = "ListenError";
}

/**
 * Connections the kernel completes before Node accepts them. Node's default
 * (511) is shorter than a burst of a thousand clients: the rest wait out SYN
 * retransmits, trickle in after a shutdown's quiet time and are reset when the
 * listener closes. The kernel caps it at net.core.somaxconn.
 */
const BACKLOG = 4096;

/**
 * Listens and resolves with the bound address (port 0 becomes the real port).
 * "Address in use" and "cannot bind" reject with a ListenError naming the flag.
 */
export function listen(server: Server, at: HostPort, flagName: string): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const where = formatHostPort(at);
      if (err.code === "EADDRINUSE")
        reject(new ListenError(`--${flagName}: ${where} is already in use`));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "EACCES" || err.code === "ENOTFOUND")
        reject(new ListenError(`--${flagName}: cannot listen on ${where} (${err.code})`));
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
    server.listen({ port: at.port, host: at.host, backlog: BACKLOG });
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
