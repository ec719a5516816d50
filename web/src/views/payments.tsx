/** Payments with their status, and refunds (the API decides which roles may refund). */
import { useState } from 'preact/hooks';
import { postJson } from '../api.tsx';
import { ReasonAction, RemoteList } from './remote-list.tsx';

export function PaymentsView() {
  const [reloadKey, setReloadKey] = useState(0);
  return (
    <RemoteList
      path="/api/v1/payments"
      what="Payments"
      csvName="payments"
      empty="No payments yet."
      reloadKey={reloadKey}
      actions={(row) =>
        String(row.status ?? '').toLowerCase() === 'captured' ? (
          <ReasonAction
            label="Refund"
            danger
            onSubmit={async (reason) => {
              const result = await postJson(`/api/v1/payments/${encodeURIComponent(String(row.id))}/refunds`, {
                reason,
              });
              if (!result.ok)
                return result.error.kind === 'unavailable'
                  ? 'Refunds are not available on this server yet.'
                  : result.error.message;
              setReloadKey((k) => k + 1);
              return null;
            }}
          />
        ) : null
      }
    />
  );
}
