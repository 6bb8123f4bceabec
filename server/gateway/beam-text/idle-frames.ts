/**
 * Where a harness's threads wait for work. A thread parked in one of these
 * is idle: its stack never changes, and that is fine. Without this list every
 * thread of a real Python harness read "not moving" (issue 9) and the one
 * stuck thread was hidden among them.
 *
 * The lists match the INNERMOST frame (Python, Java) or the innermost frame
 * outside Go's standard library. Extend them when a harness shows a new kind
 * of waiting thread; an entry must describe "waiting for work", never "waiting
 * for a peer that may never answer" (a socket read is exactly what a stuck
 * bundle looks like).
 */

/** Python: a frame as `File "<file>", line N, in <fn>` plus its source line. */
export interface PythonIdleFrame {
  /** The file path ends with this. */
  file?: string;
  fn?: string;
  /** The source line starts with this. */
  source?: string;
  why: string;
}

export const PYTHON_IDLE_FRAMES: readonly PythonIdleFrame[] = [
  { file: "threading.py", fn: "wait", why: "Condition.wait / Event.wait" },
  { file: "threading.py", fn: "_wait_for_tstate_lock", why: "Thread.join" },
  { file: "queue.py", fn: "get", why: "queue.get" },
  { file: "concurrent/futures/thread.py", fn: "_worker", why: "an idle executor thread" },
  { file: "selectors.py", fn: "select", why: "an event loop's select" },
  { file: "grpc/_channel.py", fn: "channel_spin", why: "gRPC's channel spin thread" },
  { file: "grpc/_server.py", fn: "_serve", why: "gRPC's server loop" },
  { source: "time.sleep(", why: "a sleep loop" },
  { source: "waiter.acquire()", why: "Condition.wait" },
  { fn: "<event loop>", why: "Stallwatch's reference worker's event loop (Beam mode)" },
];

/** Java: fully-qualified method prefixes of the innermost frame, for RUNNABLE threads. */
export const JAVA_IDLE_RUNNABLE_FRAMES: readonly string[] = [
  "sun.nio.ch.EPoll.wait",
  "sun.nio.ch.EPollSelectorImpl.doSelect",
  "io.netty.channel.epoll.Native.epollWait",
  "sun.nio.ch.Net.accept",
  "<event loop>",
];

/** Java: waiting states are idle unless a bundle tracks the thread. */
export const JAVA_IDLE_STATES: ReadonlySet<string> = new Set(["WAITING", "TIMED_WAITING"]);

/** Go: package prefixes whose goroutines wait for work (the runtime's own are idle anyway). */
export const GO_IDLE_PACKAGES: readonly string[] = [
  "google.golang.org/grpc",
  "golang.org/x/net/http2",
  "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/harness",
  "go.opencensus.io",
  "<event loop>",
];

/** Go states in which a goroutine is not on a CPU. */
export const GO_WAITING_STATES: readonly string[] = [
  "select",
  "chan receive",
  "chan send",
  "sleep",
  "semacquire",
  "sync.Mutex.Lock",
  "sync.RWMutex.Lock",
  "sync.RWMutex.RLock",
  "sync.Cond.Wait",
  "sync.WaitGroup.Wait",
  "IO wait",
  "GC worker (idle)",
  "GC sweep wait",
  "GC scavenge wait",
  "finalizer wait",
  "force gc (idle)",
  "timer goroutine (idle)",
  "syscall",
];

/** Frames by which each SDK's own status thread shows itself. */
export const STATUS_HANDLER_MARKS = {
  pythonName: "fn_api_status_handler",
  pythonFile: "apache_beam/runners/worker/worker_status.py",
  java: "BeamFnStatusClient",
  go: "workerStatusHandler",
} as const;

export function pythonFrameIdle(file: string, fn: string, source: string): boolean {
  return PYTHON_IDLE_FRAMES.some(
    (f) =>
      (f.file === undefined || file.endsWith(f.file)) &&
      (f.fn === undefined || fn === f.fn) &&
      (f.source === undefined || source.startsWith(f.source)),
  );
}
