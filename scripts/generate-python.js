// Python stubs for the Python agent and worker: Debian's protoc with its
// grpc_python_plugin (no pip, no remote registry). The output folder is the
// import root the generated modules assume (`from stallwatch.v1 import ...`);
// python/stallwatch_proto/__init__.py puts it on sys.path.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { root, run, say } from "./lib.js";

export const pythonGenDir = "python/stallwatch_proto/gen";
const protoc = "/usr/bin/protoc";
const grpcPlugin = "/usr/bin/grpc_python_plugin";

function protoFiles(dir) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return protoFiles(path);
      return name.endsWith(".proto") ? [relative(`${root}proto`, path)] : [];
    });
}

/** Regenerates python/stallwatch_proto/gen from proto/; resolves true on success. */
export async function generatePython() {
  for (const tool of [protoc, grpcPlugin]) {
    if (!existsSync(tool)) {
      say(`${tool} is missing: install protobuf-compiler and protobuf-compiler-grpc`);
      return false;
    }
  }
  const out = `${root}${pythonGenDir}`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const code = await run(
    protoc,
    [
      "-Iproto",
      `--plugin=protoc-gen-grpc_python=${grpcPlugin}`,
      `--python_out=${pythonGenDir}`,
      `--grpc_python_out=${pythonGenDir}`,
      ...protoFiles(`${root}proto`),
    ],
    { timeoutMs: 120_000 },
  );
  return code === 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await generatePython()) ? 0 : 1);
}
