/**
 * Closes the HTTP API without waiting for keep-alive clients. Fastify's close closes the connections idle at that
 * moment and answers new requests 503, but a request already being handled is answered with keep-alive, and its
 * connection then stays open until the client drops it or the keep-alive timeout (72 s) lapses: a shutdown (a
 * deploy behind a load balancer, a test's teardown) waited that long. Found when the SANDBOX's webhook, posted by
 * this process's own fetch, was being handled as the server closed. While closing, connections that have gone idle
 * are closed every SWEEP_INTERVAL_MS, so each in-flight request is finished and its connection closed right after.
 */
import type { FastifyInstance } from 'fastify';

const SWEEP_INTERVAL_MS = 50;

export async function closeApp(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), SWEEP_INTERVAL_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}
