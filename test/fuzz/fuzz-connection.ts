/**
 * One raw WebSocket station for the fuzzer: sends frames as they are (text frames, even with invalid UTF-8) and
 * hands the server's frames over one at a time, in the order they arrived, followed by the close. A CALL from the
 * server is refused at once (NotSupported) and not handed over. What the frames mean is judged by reply-check.ts.
 */
import WebSocket from 'ws';
import type { Protocol } from './fuzz-frames.ts';
import { checkReply, type Outcome } from './reply-check.ts';

export type ConnectionEvents = {
  onServerCall(label: string): void;
  onViolation(problem: string): void;
};

export class FuzzConnection {
  readonly #inbox: string[] = [];
  #waiter: (() => void) | undefined;
  #open = true;
  closeCode: number | undefined;

  private constructor(
    readonly socket: WebSocket,
    readonly protocol: Protocol,
    events: ConnectionEvents,
  ) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        events.onViolation('server sent a binary frame');
        return;
      }
      const text = String(data);
      const checked = checkReply(protocol, text);
      if (checked.ok && checked.kind === 'server-call') {
        // A command from the server (none is expected here): refuse it so that it does not wait for its timeout.
        events.onServerCall(checked.label);
        socket.send(JSON.stringify([4, checked.id, 'NotSupported', 'fuzz station', {}]));
        return;
      }
      this.#inbox.push(text);
      this.#wake();
    });
    socket.on('error', () => {});
    socket.once('close', (code) => {
      this.#open = false;
      this.closeCode = code;
      this.#wake();
    });
  }

  static async open(url: string, protocol: Protocol, events: ConnectionEvents): Promise<FuzzConnection> {
    const socket = new WebSocket(url, [protocol]);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`HTTP ${response.statusCode} on upgrade`)),
      );
    });
    if (socket.protocol !== protocol) events.onViolation(`server chose subprotocol ${socket.protocol}`);
    return new FuzzConnection(socket, protocol, events);
  }

  get open(): boolean {
    return this.#open && this.socket.readyState === WebSocket.OPEN;
  }

  /** Frames received and not yet taken with next(). */
  get pending(): number {
    return this.#inbox.length;
  }

  /** Sends a frame; `binary: false` so that a Buffer with invalid UTF-8 still goes out as a text frame. */
  send(data: string | Buffer): void {
    if (this.open) this.socket.send(data, { binary: false });
  }

  /** The next frame from the server; once they are all taken, the close (with its code), or a timeout. */
  async next(timeoutMs: number): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.#inbox.shift();
      if (text !== undefined) return { kind: 'reply', text };
      if (!this.#open) return { kind: 'closed', code: this.closeCode ?? 0 };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  /** Drops the connection at once (no close handshake). */
  close(): void {
    this.socket.terminate();
  }

  #wake(): void {
    this.#waiter?.();
  }
}
