/**
 * Closes the HTTP API without waiting for keep-alive clients, and without cutting off a response. Fastify's close
 * closes the connections idle at that moment and answers new requests 503, but a request already being handled is
 * answered with keep-alive, and its connection then stays open until the client drops it or the keep-alive timeout
 * (72 s) lapses: a shutdown (a deploy behind a load balancer, a test's teardown) waited that long. Found when the
 * SANDBOX's webhook, posted by this process's own fetch, was being handled as the server closed.
 *
 * So, once closing: every response still to be sent says `Connection: close` (Node then ends the socket after the
 * response is flushed), and a connection that was busy when the close began, whose response had already gone out
 * with keep-alive, is closed once it is idle: no response in progress and nothing left in its write buffer (Node's
 * own closeIdleConnections counts a response as done once `end()` is called, even with megabytes still queued).
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

const SWEEP_INTERVAL_MS = 50;

type CloseState = { closing: boolean; readonly sockets: Set<Socket> };

const states = new WeakMap<FastifyInstance, CloseState>();

/** Call once, before the app listens: tracks its connections and marks responses sent while closing. */
export function prepareClose(app: FastifyInstance): void {
  const state: CloseState = { closing: false, sockets: new Set() };
  states.set(app, state);
  app.server.on('connection', (socket: Socket) => {
    state.sockets.add(socket);
    socket.once('close', () => state.sockets.delete(socket));
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (state.closing) reply.header('connection', 'close');
    return payload;
  });
}

export async function closeApp(app: FastifyInstance): Promise<void> {
  const state = states.get(app);
  if (state === undefined) throw new Error('closeApp needs prepareClose(app) before the app listens');
  state.closing = true;
  const busyAtClose = [...state.sockets].filter((socket) => !isIdle(socket));
  const sweep = setInterval(() => {
    for (const socket of busyAtClose) if (!socket.destroyed && isIdle(socket)) socket.destroy();
  }, SWEEP_INTERVAL_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
}

/**
 * Waiting for a next request: no response attached (Node detaches it once written), nothing queued to write, in
 * the stream or in libuv (a large chunk is handed to libuv whole), and not already ending (a response sent with
 * `Connection: close` ends its socket itself once flushed).
 */
function isIdle(socket: Socket): boolean {
  const internals = socket as Socket & { _httpMessage?: unknown; _handle?: { writeQueueSize?: number } | null };
  const response = internals._httpMessage;
  return (
    (response === undefined || response === null) &&
    !socket.writableEnded &&
    socket.writableLength === 0 &&
    (internals._handle?.writeQueueSize ?? 0) === 0
  );
}
