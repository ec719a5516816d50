/**
 * Connections per remote address that have not authenticated yet. A socket counts from its TCP (or TLS) accept
 * until its OCPP handshake is authenticated or it closes; beyond the limit a new socket is closed at once, so one
 * address cannot hold the server's sockets or scrypt time with half-open handshakes.
 */
import type { Socket } from 'node:net';

export class PendingConnections {
  readonly #perAddress = new Map<string, number>();
  /** The address each counted socket was counted under (a closed socket may no longer know its address). */
  readonly #counted = new WeakMap<Socket, string>();

  constructor(private readonly maxPerAddress: number) {}

  /** Counts the socket; false (and the socket is not counted) when its address is at the limit. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.#perAddress.get(address) ?? 0;
    if (count >= this.maxPerAddress) return false;
    this.#perAddress.set(address, count + 1);
    this.#counted.set(socket, address);
    socket.once('close', () => this.authenticated(socket));
    return true;
  }

  /** The socket authenticated (or closed): it no longer counts against its address. */
  authenticated(socket: Socket): void {
    const address = this.#counted.get(socket);
    if (address === undefined) return;
    this.#counted.delete(socket);
    const count = (this.#perAddress.get(address) ?? 1) - 1;
    if (count <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count);
  }
}
