// A TCP port nothing listens on right now (asked from the OS), for the local servers the tests, the contract run and
// the benchmark start beside whatever else holds 8787.
import { createServer } from "node:net";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
