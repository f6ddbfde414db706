// Free loopback ports for the helpers that start processes of their own (php -S, nginx,
// redis-server): probed by listening on port 0 and closing again.
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago (another process may still take it first). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
