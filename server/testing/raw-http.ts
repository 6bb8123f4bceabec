import http from "node:http";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  /** Sent as given, `host` included: what a hostile or rebound browser would send. */
  headers?: Record<string, string>;
  body?: string;
  /** Local source address (any 127.x.y.z on Linux): another peer without another host. */
  localAddress?: string;
  timeoutMs?: number;
}

/**
 * One HTTP/1.1 request with full control over `Host` and the source address,
 * which fetch does not give (it sets `Host` itself). No keep-alive, so a test
 * leaves no socket behind.
 */
export function rawRequest(address: string, req: RawRequest): Promise<RawResponse> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(":")),
    address.slice(address.lastIndexOf(":") + 1),
  ];
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host,
        port: Number(port),
        method: req.method ?? "GET",
        path: req.path,
        headers: req.headers ?? {},
        agent: false,
        timeout: req.timeoutMs ?? 5000,
        ...(req.localAddress ? { localAddress: req.localAddress } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 1 << 20) body += chunk; // bounded: a test reads errors, not dumps
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`${req.path}: no answer in time`)));
    request.on("error", reject);
    request.end(req.body);
  });
}

/** A Connect unary call in JSON, as a browser's fetch would make it. */
export function connectCall(
  address: string,
  method: string,
  body: unknown,
  opts: Omit<RawRequest, "path" | "body" | "method"> = {},
): Promise<RawResponse> {
  return rawRequest(address, {
    ...opts,
    method: "POST",
    path: `/stallwatch.v1.${method}`,
    headers: { host: address, "content-type": "application/json", ...opts.headers },
    body: JSON.stringify(body),
  });
}
