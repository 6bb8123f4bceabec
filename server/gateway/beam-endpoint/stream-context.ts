import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest, Http2Session, Http2Stream } from "node:http2";
import { createContextKey, type ContextValues } from "@connectrpc/connect";

/**
 * The HTTP/2 connection a Beam stream arrived on: liveness comes from PINGs
 * on it (not from thread dumps), and streams are capped per connection.
 */
export const http2SessionKey = createContextKey<Http2Session | undefined>(undefined, {
  description: "the request's HTTP/2 session",
});

/** The request's own HTTP/2 stream: a reset must read "gone", a half-close "exited". */
export const http2StreamKey = createContextKey<Http2Stream | undefined>(undefined, {
  description: "the request's HTTP/2 stream",
});

/** True when the peer reset the stream (or the connection broke) rather than half-closing it. */
export function streamBroken(stream: Http2Stream | undefined): boolean {
  if (!stream) return false;
  return (
    stream.aborted ||
    // rstCode is undefined until the stream is destroyed (the typings say number).
    ((stream.rstCode as number | undefined) !== undefined && stream.rstCode !== 0) ||
    stream.session?.destroyed === true
  );
}

/** Adds the request's HTTP/2 session and stream to `values` (for connectNodeAdapter's `contextValues`). */
export function withHttp2Session(
  req: IncomingMessage | Http2ServerRequest,
  values: ContextValues,
): ContextValues {
  const stream = "stream" in req ? req.stream : undefined;
  if (stream) {
    values.set(http2StreamKey, stream);
    if (stream.session) values.set(http2SessionKey, stream.session);
  }
  return values;
}
