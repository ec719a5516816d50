/**
 * One station's WebSocket in a load run: a bare `ws` socket with OCPP-J framing done here (no RPC library, no
 * schema validation, no timer per call), so that one process holds thousands of them. One call awaits its answer
 * at a time, as OCPP-J requires; call timeouts are checked by the run's sweep (`expireCall`), not by a timer.
 */
import WebSocket from 'ws';
import type { LoadProtocol } from './load-protocol.ts';
import type { Payload } from './ocpp-payloads.ts';

export type CallOutcome =
  | { readonly ok: true; readonly payload: Payload; readonly latencyMs: number }
  | { readonly ok: false; readonly kind: 'callError'; readonly code: string; readonly latencyMs: number }
  | { readonly ok: false; readonly kind: 'timeout' | 'closed' };

export interface TlsOptions {
  /** PEM of the CA that signed the server's certificate (security profiles 2 and 3). */
  readonly ca?: Buffer;
  /** PEM client certificate and key (security profile 3). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface LeanConnectionOptions {
  /** The CSMS's endpoints: the first connection goes to `urls[firstUrl % urls.length]`, each next one to the next. */
  readonly urls: readonly string[];
  readonly firstUrl: number;
  readonly stationId: string;
  readonly protocol: LoadProtocol;
  readonly password?: string | undefined;
  readonly tls?: TlsOptions | undefined;
  /** Real ms before a connection attempt is given up. */
  readonly connectTimeoutMs: number;
  /** Answers the CSMS's own calls (remote commands); a CALLERROR NotImplemented when it returns undefined. */
  readonly onServerCall?: (action: string, payload: Payload) => Payload | undefined;
  readonly onClose?: () => void;
}

interface PendingCall {
  readonly messageId: string;
  readonly sentAtMs: number;
  readonly resolve: (outcome: CallOutcome) => void;
}

export class LeanConnection {
  #socket: WebSocket | undefined;
  #pending: PendingCall | undefined;
  #nextId = 1;
  #opens = 0;

  constructor(readonly options: LeanConnectionOptions) {}

  get isOpen(): boolean {
    return this.#socket?.readyState === WebSocket.OPEN;
  }

  /** When the call in flight was sent (performance.now() ms), for the timeout sweep. */
  get pendingSinceMs(): number | undefined {
    return this.#pending?.sentAtMs;
  }

  /** Opens the socket; resolves true once open, false (with the reason) when refused or timed out. */
  open(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const { options } = this;
    const headers: Record<string, string> = {};
    if (options.password !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${options.stationId}:${options.password}`).toString('base64')}`;
    }
    const url = options.urls[(options.firstUrl + this.#opens++) % options.urls.length];
    const socket = new WebSocket(`${url}/${encodeURIComponent(options.stationId)}`, [options.protocol], {
      headers,
      handshakeTimeout: options.connectTimeoutMs,
      perMessageDeflate: false,
      ...(options.tls?.ca && { ca: options.tls.ca }),
      ...(options.tls?.cert && { cert: options.tls.cert }),
      ...(options.tls?.key && { key: options.tls.key }),
    });
    this.#socket = socket;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: { ok: true } | { ok: false; reason: string }): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      socket.once('open', () => {
        if (socket.protocol !== options.protocol) {
          settle({ ok: false, reason: `the server did not accept subprotocol ${options.protocol}` });
          socket.terminate();
          return;
        }
        settle({ ok: true });
      });
      socket.once('unexpected-response', (_request, response) => {
        settle({ ok: false, reason: `HTTP ${response.statusCode}` });
        socket.terminate();
      });
      socket.on('error', (error) => settle({ ok: false, reason: error.message }));
      socket.on('message', (data) => this.#receive(String(data)));
      socket.once('close', () => {
        settle({ ok: false, reason: 'closed during the handshake' });
        if (this.#socket === socket) this.#socket = undefined;
        this.#settlePending({ ok: false, kind: 'closed' });
        options.onClose?.();
      });
    });
  }

  /** Sends one call and resolves with its answer; never rejects. */
  call(action: string, payload: Payload): Promise<CallOutcome> {
    const socket = this.#socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) {
      return Promise.resolve({ ok: false, kind: 'closed' });
    }
    if (this.#pending !== undefined) throw new Error(`${this.options.stationId}: a call is already in flight`);
    const messageId = String(this.#nextId++);
    return new Promise((resolve) => {
      this.#pending = { messageId, sentAtMs: performance.now(), resolve };
      socket.send(JSON.stringify([2, messageId, action, payload]));
    });
  }

  /** Gives up the call in flight (the run's timeout sweep decided it took too long). */
  expireCall(): void {
    this.#settlePending({ ok: false, kind: 'timeout' });
  }

  /** Closes the socket at once, without a closing handshake (a station losing power or its network). */
  terminate(): void {
    this.#socket?.terminate();
  }

  #settlePending(outcome: CallOutcome): void {
    const pending = this.#pending;
    if (pending === undefined) return;
    this.#pending = undefined;
    pending.resolve(outcome);
  }

  #receive(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!Array.isArray(frame)) return;
    const [type, messageId] = frame as [number, string];
    if (type === 2) {
      const answer = this.options.onServerCall?.(String(frame[2]), (frame[3] ?? {}) as Payload);
      const reply =
        answer === undefined
          ? [4, messageId, 'NotImplemented', 'not supported by the load station', {}]
          : [3, messageId, answer];
      this.#socket?.send(JSON.stringify(reply));
      return;
    }
    const pending = this.#pending;
    if (pending === undefined || pending.messageId !== messageId) return;
    const latencyMs = performance.now() - pending.sentAtMs;
    if (type === 3) this.#settlePending({ ok: true, payload: (frame[2] ?? {}) as Payload, latencyMs });
    else if (type === 4) this.#settlePending({ ok: false, kind: 'callError', code: String(frame[2]), latencyMs });
  }
}
