/**
 * The pages' only way to the API: same-origin fetch with the signed-in credential as a bearer token, one refresh
 * attempt on 401 when a refresh token exists, and errors as values. A 404 for a whole route means the feature is not
 * on this server (yet) and becomes `unavailable`, so that a page shows "not available" instead of breaking.
 */

export type Credential =
  | { kind: 'apiKey'; key: string }
  | { kind: 'user'; accessToken: string; refreshToken: string; expiresAt: number; email: string };

const STORAGE_KEY = 'voltbill.credential';

export function loadCredential(): Credential | null {
  try {
    const text = sessionStorage.getItem(STORAGE_KEY);
    return text ? (JSON.parse(text) as Credential) : null;
  } catch {
    return null;
  }
}

export function saveCredential(credential: Credential | null): void {
  if (credential) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credential));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export type ApiFailure = {
  /** 'unavailable': the route does not exist on this server; 'network': no answer at all. */
  kind: 'unavailable' | 'unauthenticated' | 'forbidden' | 'error' | 'network';
  status: number;
  code: string;
  message: string;
};
export type ApiResult<T> = { ok: true; value: T; response: Response } | { ok: false; error: ApiFailure };

function bearer(credential: Credential | null): Record<string, string> {
  if (!credential) return {};
  return { authorization: `Bearer ${credential.kind === 'apiKey' ? credential.key : credential.accessToken}` };
}

/** Refresh tokens are single-use: concurrent requests share one refresh instead of spending the token twice. */
let refreshing: Promise<Credential | null> | null = null;
function refresh(credential: Credential): Promise<Credential | null> {
  refreshing ??= refreshOnce(credential).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Renew this long before the access token expires, so that requests do not meet a 401 first. */
const REFRESH_MARGIN_MS = 30_000;

async function refreshOnce(credential: Credential): Promise<Credential | null> {
  if (credential.kind !== 'user') return null;
  const response = await fetch('/api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: credential.refreshToken }),
  }).catch(() => null);
  if (!response?.ok) return null;
  const body = (await response.json()) as { accessToken: string; refreshToken?: string; expiresInS: number };
  const next: Credential = {
    ...credential,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken ?? credential.refreshToken,
    expiresAt: Date.now() + body.expiresInS * 1000,
  };
  saveCredential(next);
  return next;
}

async function failureOf(response: Response): Promise<ApiFailure> {
  let code = `HTTP${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not JSON: keep the status line.
  }
  // The API answers 404 NotFound with "no route ..." for a route it does not have; any other 404 is a missing object.
  const noRoute = response.status === 404 && (message.startsWith('no route') || code.startsWith('HTTP'));
  const kind: ApiFailure['kind'] = noRoute
    ? 'unavailable'
    : response.status === 401
      ? 'unauthenticated'
      : response.status === 403
        ? 'forbidden'
        : 'error';
  return { kind, status: response.status, code, message };
}

let onSignedOut: () => void = () => {};
/** The dashboard registers what happens when a credential stops working (back to the sign-in form). */
export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

export async function apiFetch(path: string, init: RequestInit = {}): Promise<ApiResult<Response>> {
  let credential = loadCredential();
  const send = (c: Credential | null) =>
    fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...bearer(c) } });
  let response: Response;
  try {
    if (credential?.kind === 'user' && Date.now() > credential.expiresAt - REFRESH_MARGIN_MS) {
      credential = (await refresh(credential)) ?? credential;
    }
    response = await send(credential);
    if (response.status === 401 && credential?.kind === 'user') {
      credential = await refresh(credential);
      if (credential) response = await send(credential);
    }
  } catch (error) {
    return { ok: false, error: { kind: 'network', status: 0, code: 'Network', message: String(error) } };
  }
  if (!response.ok) {
    const error = await failureOf(response);
    if (error.kind === 'unauthenticated' && loadCredential()) onSignedOut();
    return { ok: false, error };
  }
  return { ok: true, value: response, response };
}

export async function apiJson<T>(path: string, init: RequestInit = {}): Promise<ApiResult<T>> {
  const result = await apiFetch(path, init);
  if (!result.ok) return result;
  try {
    return { ok: true, value: (await result.value.json()) as T, response: result.value };
  } catch {
    return { ok: false, error: { kind: 'error', status: result.value.status, code: 'BadJson', message: 'not JSON' } };
  }
}

export function postJson<T>(path: string, body: unknown): Promise<ApiResult<T>> {
  return apiJson<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Fetches every page of a keyset-paginated list, up to `maxRows`. */
export async function fetchAllPages<T>(
  path: string,
  maxRows: number,
): Promise<ApiResult<{ rows: T[]; truncated: boolean }>> {
  const rows: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: ApiResult<{ data: T[]; nextCursor: string | null }> = await apiJson(
      `${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    if (!page.ok) return page;
    rows.push(...page.value.data);
    cursor = page.value.nextCursor;
  } while (cursor && rows.length < maxRows);
  return { ok: true, value: { rows, truncated: cursor !== null }, response: new Response() };
}

/**
 * Server-Sent Events over fetch (EventSource cannot send an Authorization header). Calls `onEvent` per event and
 * reconnects after a pause until the returned function is called.
 */
export function subscribeEvents(
  path: string,
  onEvent: (type: string, data: string) => void,
  onState: (state: 'open' | 'retrying' | 'unavailable') => void,
): () => void {
  const controller = new AbortController();
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      const result = await apiFetch(path, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
      if (!result.ok) {
        if (stopped) return;
        if (result.error.kind === 'unavailable' || result.error.kind === 'unauthenticated') {
          onState('unavailable');
          return;
        }
        onState('retrying');
        await new Promise((r) => setTimeout(r, 3000));
        continue;
      }
      onState('open');
      const reader = result.value.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            if (data.length > 0) onEvent(type, data.join('\n'));
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // Aborted or the connection dropped: reconnect below unless stopped.
      }
      if (stopped) return;
      onState('retrying');
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller.abort();
  };
}

/** Downloads a protected file (e.g. an invoice PDF) with the bearer credential and saves it under `fileName`. */
export async function downloadFile(path: string, fileName: string): Promise<ApiFailure | null> {
  const result = await apiFetch(path);
  if (!result.ok) return result.error;
  const blob = await result.value.blob();
  saveBlob(blob, fileName);
  return null;
}

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Ends the sign-in: revokes a user's tokens on the server (best effort) and forgets the credential. */
export async function signOut(): Promise<void> {
  const credential = loadCredential();
  saveCredential(null);
  if (credential?.kind === 'user') {
    await fetch('/api/v1/auth/sign-out', { method: 'POST', headers: bearer(credential) }).catch(() => undefined);
  }
}
