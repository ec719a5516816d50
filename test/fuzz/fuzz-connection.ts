/**
 * One raw WebSocket station for the fuzzer: sends frames as they are (text frames, even with invalid UTF-8), checks
 * every frame the server sends with checkReply, and lets the fuzzer wait for the answer to one CALL id.
 */
import WebSocket from 'ws';
import type { Protocol } from './fuzz-frames.ts';
import { checkReply } from './reply-check.ts';

export type ReplyOutcome = { kind: 'reply'; frame: unknown[] } | { kind: 'closed' } | { kind: 'timeout' };

export type ConnectionEvents = {
  onReply(label: string): void;
  onViolation(problem: string): void;
};

export class FuzzConnection {
  readonly #waiters = new Map<string, (outcome: ReplyOutcome) => void>();
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
      const checked = checkReply(protocol, String(data));
      if (!checked.ok) {
        events.onViolation(checked.problem);
        // Still an answer to its CALL (counted as a violation above), not a missing one.
        const id = answeredId(String(data));
        const waiter = id === undefined ? undefined : this.#waiters.get(id);
        if (id !== undefined && waiter) {
          this.#waiters.delete(id);
          waiter({ kind: 'reply', frame: [] });
        }
        return;
      }
      events.onReply(checked.label);
      if (checked.kind === 'server-call') {
        // A command from the server (none is expected here): refuse it so that it does not wait for its timeout.
        socket.send(JSON.stringify([4, checked.id, 'NotSupported', 'fuzz station', {}]));
        return;
      }
      const waiter = this.#waiters.get(checked.id);
      if (waiter) {
        this.#waiters.delete(checked.id);
        waiter({ kind: 'reply', frame: checked.frame });
      }
    });
    socket.on('error', () => {});
    socket.once('close', (code) => {
      this.#open = false;
      this.closeCode = code;
      for (const waiter of this.#waiters.values()) waiter({ kind: 'closed' });
      this.#waiters.clear();
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

  /** Sends a frame; `binary: false` so that a Buffer with invalid UTF-8 still goes out as a text frame. */
  send(data: string | Buffer): void {
    if (this.open) this.socket.send(data, { binary: false });
  }

  waitFor(id: string, timeoutMs: number): Promise<ReplyOutcome> {
    if (!this.open) return Promise.resolve({ kind: 'closed' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.#waiters.set(id, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  close(): void {
    this.socket.terminate();
  }
}

function answeredId(text: string): string | undefined {
  try {
    const frame: unknown = JSON.parse(text);
    return Array.isArray(frame) && typeof frame[1] === 'string' ? frame[1] : undefined;
  } catch {
    return undefined;
  }
}
