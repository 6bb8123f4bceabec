// The profile view's Web Worker: follows one WatchProfile stream with a
// transport of its own, made from the app's settings (origin, binary
// format, the operator token's header), and posts the decoded messages to
// the main thread (profile-stream.ts has the protocol and why).
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ProfileService } from "../../../../gen/stallwatch/v1/profile_pb";
import { serveProfileStream, type WorkerScopeLike } from "./profile-stream";

serveProfileStream(globalThis as unknown as WorkerScopeLike, (profileId, settings) => {
  const headers: Interceptor = (next) => (req) => {
    for (const [name, value] of Object.entries(settings.headers)) req.header.set(name, value);
    return next(req);
  };
  const transport = createConnectTransport({
    baseUrl: settings.baseUrl,
    useBinaryFormat: settings.useBinaryFormat,
    interceptors: [headers],
  });
  // Never aborted from here: the main thread ends the stream by terminating this worker.
  return createClient(ProfileService, transport).watchProfile({ profileId });
});
