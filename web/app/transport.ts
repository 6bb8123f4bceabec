import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { describeForWorkers } from "../shared/worker-transport";
import { readOperatorToken } from "./operator-token";

/** The headers every call carries: the operator token, when there is one. */
function authHeaders(): Record<string, string> {
  const token = readOperatorToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Adds the operator token, when there is one, to every call. */
const operatorAuth: Interceptor = (next) => (req) => {
  for (const [name, value] of Object.entries(authHeaders())) req.header.set(name, value);
  return next(req);
};

const baseUrl = window.location.origin;
const useBinaryFormat = true;

/**
 * The one transport of the app, made once at module load (never inside a
 * render). Binary protobuf: smaller and faster to decode than JSON for
 * fleets of thousands. Described for Web Workers too (the profile view
 * follows a profile from one, so that its decode is off the main thread):
 * the same origin, format and headers.
 */
export const browserTransport: Transport = describeForWorkers(
  createConnectTransport({ baseUrl, useBinaryFormat, interceptors: [operatorAuth] }),
  () => ({ baseUrl, useBinaryFormat, headers: authHeaders() }),
);
