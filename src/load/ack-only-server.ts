/**
 * The physical limit of this machine for an OCPP gateway: a bare `ws` server that parses each call and answers it
 * at once, with no validation, no storage and no logging. The benchmarks divide Voltbill's figures by this one's.
 * Its answers are the smallest a station accepts (Boot Accepted, a transaction id, idTag Accepted).
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface AckOnlyServer {
  /** ws://127.0.0.1:PORT/ocpp */
  readonly url: string;
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function startAckOnlyServer(options: { heartbeatIntervalS?: number } = {}): Promise<AckOnlyServer> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('ocpp2.0.1') ? 'ocpp2.0.1' : 'ocpp1.6'),
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  let nextTransactionId = 1;
  const interval = options.heartbeatIntervalS ?? 300;
  const answer = (action: string): Record<string, unknown> => {
    switch (action) {
      case 'BootNotification':
        return { status: 'Accepted', currentTime: new Date().toISOString(), interval };
      case 'Heartbeat':
        return { currentTime: new Date().toISOString() };
      case 'Authorize':
        return { idTagInfo: { status: 'Accepted' }, idTokenInfo: { status: 'Accepted' } };
      case 'StartTransaction':
        return { transactionId: nextTransactionId++, idTagInfo: { status: 'Accepted' } };
      default:
        return {};
    }
  };
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as [number, string, string];
      if (frame[0] === 2) socket.send(JSON.stringify([3, frame[1], answer(frame[2])]));
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ocpp`,
    connections: () => server.clients.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
