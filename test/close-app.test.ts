/**
 * Closing the HTTP API (src/api/close-app.ts) while a request is being handled: the request is answered, and its
 * keep-alive connection is closed right after instead of staying open until the client drops it (Fastify's close
 * alone waits for that: up to its 72 s keep-alive timeout).
 */
import net from 'node:net';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { closeApp, prepareClose } from '../src/api/close-app.ts';

/** The client would hold its idle connection this long; a close that waits for it fails the test. */
const CLIENT_HOLDS_MS = 20_000;

describe('closeApp', () => {
  it('answers the request in flight and closes its keep-alive connection, without waiting for the client', async () => {
    const app = Fastify();
    prepareClose(app);
    let handling!: () => void;
    const handled = new Promise<void>((resolve) => {
      handling = resolve;
    });
    app.get('/slow', async () => {
      handling();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { answered: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (chunk) => {
      response += chunk.toString();
    });
    const serverClosedSocket = new Promise<'closed'>((resolve) => socket.once('close', () => resolve('closed')));
    socket.write('GET /slow HTTP/1.1\r\nHost: voltbill\r\n\r\n');
    await handled;

    const closed = closeApp(app).then(() => 'closed' as const);
    const clientGivesUp = new Promise<'client gave up'>((resolve) =>
      setTimeout(() => resolve('client gave up'), CLIENT_HOLDS_MS).unref(),
    );
    expect(await Promise.race([closed, clientGivesUp])).toBe('closed');
    expect(await Promise.race([serverClosedSocket, clientGivesUp])).toBe('closed');
    expect(response.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toContain('{"answered":true}');
    socket.destroy();
  }, 30_000);
});
