/**
 * Answers one CALL as ocpp-rpc 2.x's `RPCClient._onCall` does (lib/client.js), but allocating only what a handler
 * uses. The library makes an AbortController for every call and reads its `signal` (Node 20 builds an AbortSignal,
 * an EventTarget, for it), plus several closures; none of Voltbill's handlers reads the signal. Measured per call
 * (`bench/answer-call.bench.ts`): about 2.5 µs of CPU against 7 µs.
 * Everything else is the library's, step for step: the same checks in the same order, the same errors, replies and
 * events ('strictValidationFailure', 'callResult', 'callError', 'response'), the same bookkeeping of calls in
 * flight (so that a close still aborts them and awaits them). src/ocpp/answer-call.test.ts runs each case through
 * both over real sockets and compares the replies and events.
 *
 * It reads the client's internals; `leanCallAnswerer` checks once per client that they are all there, and the
 * gateway keeps the library's `_onCall` when they are not (as with an ocpp-rpc that renamed them).
 */
import ocppRpc from 'ocpp-rpc';

// From the default export: Node's ESM view of this CommonJS package lacks the names it spreads in (NOREPLY).
const { createRPCError, NOREPLY } = ocppRpc;

/** The parts of ocpp-rpc 2.x's RPCClient that `_onCall` uses. */
type ClientInternals = {
  _state: number;
  _protocol: string | undefined;
  _pendingResponses: Map<string, { abort(reason?: unknown): void; readonly promise: Promise<unknown> }>;
  _handlers: Map<string, CallHandler>;
  _wildcardHandler: CallHandler | null;
  _strictProtocols: string[];
  _strictValidators: Map<string, { validate(schemaId: string, value: unknown): void }> | undefined;
  _options: { respondWithDetailedErrors?: boolean };
  protocol: string | undefined;
  emit(event: string, payload: unknown): boolean;
  sendRaw(message: string): void;
  close(options: { code: number; reason: string }): Promise<unknown>;
};

type CallHandler = (call: {
  readonly messageId: string;
  readonly method: string;
  readonly params: unknown;
  readonly signal: AbortSignal;
  readonly reply: (value: unknown) => void;
}) => unknown;

type RpcError = Error & { rpcErrorCode?: string; rpcErrorMessage?: string; details?: unknown };

/** ws's WebSocket.OPEN, the state ocpp-rpc's client takes from it. */
const OPEN = 1;
const MSG_CALLRESULT = 3;
const MSG_CALLERROR = 4;

/**
 * The lean answerer for this client, or undefined when the client lacks an internal it needs, or is set to answer
 * with detailed errors (that needs a helper ocpp-rpc does not export): then the library's own `_onCall` stays.
 */
export function leanCallAnswerer(
  client: object,
): ((messageId: string, method: string, params: unknown) => Promise<void>) | undefined {
  const c = client as Partial<ClientInternals>;
  const usable =
    typeof c._state === 'number' &&
    c._pendingResponses instanceof Map &&
    c._handlers instanceof Map &&
    '_wildcardHandler' in c &&
    Array.isArray(c._strictProtocols) &&
    typeof c._options === 'object' &&
    c._options !== null &&
    c._options.respondWithDetailedErrors !== true &&
    typeof c.emit === 'function' &&
    typeof c.sendRaw === 'function' &&
    typeof c.close === 'function';
  if (!usable) return undefined;
  return (messageId, method, params) => answerCall(client as ClientInternals, messageId, method, params);
}

/**
 * One call in flight: the handler's argument (messageId, method, params, signal, reply) and the library's entry in
 * `_pendingResponses` (abort, promise) in one object. Its functions live on the prototype and nothing is allocated
 * per call that a handler does not ask for: the AbortController when `signal` is read, a bound `reply` when `reply`
 * is read. (Per-call closures cost more than they seem under tsx, which names each one as it is created.)
 */
class CallInFlight {
  readonly promise: Promise<unknown>;
  private resolve!: (value: unknown) => void;
  private reject!: (reason: unknown) => void;
  private controller: AbortController | undefined;
  private aborted = false;
  private abortReason: unknown;
  private boundReply: ((value: unknown) => void) | undefined;

  constructor(
    readonly messageId: string,
    readonly method: string,
    readonly params: unknown,
  ) {
    this.promise = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** As the library's `reply`: an Error rejects, anything else is the result; only the first counts. */
  get reply(): (value: unknown) => void {
    this.boundReply ??= (value) => this.settle(value);
    return this.boundReply;
  }

  settle(value: unknown): void {
    if (value instanceof Error) this.reject(value);
    else this.resolve(value);
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

/** The library's `reply(await handler(...))`, a throw replied too (a thrown non-Error then is the result, as there). */
async function runHandler(handler: CallHandler, call: CallInFlight): Promise<void> {
  try {
    call.settle(await handler(call));
  } catch (error) {
    call.settle(error);
  }
}

async function answerCall(client: ClientInternals, msgId: string, method: string, params: unknown): Promise<void> {
  // As in the library: this must not throw, or two replies could go out; what cannot be answered closes.
  try {
    let payload: unknown[];
    if (client._state !== OPEN) throw Error('Call received while client state not OPEN');
    try {
      if (client._pendingResponses.has(msgId)) {
        throw createRPCError('RpcFrameworkError', `Already processing a call with message ID: ${msgId}`, {});
      }
      const handler = client._handlers.get(method) ?? client._wildcardHandler;
      if (!handler) throw createRPCError('NotImplemented', `Unable to handle '${method}' calls`, {});
      const protocol = client._protocol ?? '';
      const strict = client._strictProtocols.includes(protocol);
      if (strict) validateOrThrow(client, protocol, msgId, method, params, `urn:${method}.req`, params, false);

      const call = new CallInFlight(msgId, method, params);
      // The handler starts now, before the call is registered, as in the library.
      void runHandler(handler, call);
      client._pendingResponses.set(msgId, call);
      const result = await call.promise;
      client.emit('callResult', { outbound: false, messageId: msgId, method, params, result });
      if (result === NOREPLY) return;
      payload = [MSG_CALLRESULT, msgId, result];
      if (strict) {
        try {
          validateOrThrow(client, protocol, msgId, method, params, `urn:${method}.conf`, result, true);
        } catch {
          throw createRPCError('InternalError');
        }
      }
    } catch (caught) {
      const error = caught as RpcError;
      // respondWithDetailedErrors is never set here (leanCallAnswerer): the library then sends `details` or {}.
      const details = error.details || {};
      let code = error.rpcErrorCode || 'GenericError';
      if (client.protocol === 'ocpp1.6') {
        // ocpp-rpc's workaround for the OCPP 1.6J spelling (errata v1.0, section 5).
        if (code === 'FormatViolation') code = 'FormationViolation';
        else if (code === 'OccurenceConstraintViolation') code = 'OccurrenceConstraintViolation';
      }
      payload = [MSG_CALLERROR, msgId, code, error.message || error.rpcErrorMessage || '', details ?? {}];
      client.emit('callError', { outbound: false, messageId: msgId, method, params, error });
    } finally {
      client._pendingResponses.delete(msgId);
    }
    client.emit('response', { outbound: true, payload });
    client.sendRaw(JSON.stringify(payload));
  } catch {
    void client.close({ code: 1000, reason: 'Unable to send call result' });
  }
}

/** Validates against the protocol's schema as the library does, with its event on failure, then rethrows. */
function validateOrThrow(
  client: ClientInternals,
  protocol: string,
  msgId: string,
  method: string,
  params: unknown,
  schemaId: string,
  value: unknown,
  outbound: boolean,
): void {
  const validator = client._strictValidators?.get(protocol);
  try {
    // A strict protocol without a validator: the library's `validator.validate` throws a TypeError here too.
    (validator as NonNullable<typeof validator>).validate(schemaId, value);
  } catch (error) {
    client.emit('strictValidationFailure', {
      messageId: msgId,
      method,
      params,
      result: outbound ? value : null,
      error,
      outbound,
      isCall: !outbound,
    });
    throw error;
  }
}
