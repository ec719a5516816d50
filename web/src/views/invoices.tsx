/** Invoices with their PDF and a credit-note action (finance and admin roles). */
import { useState } from 'preact/hooks';
import { downloadFile, postJson } from '../api.tsx';
import { formatAmount, formatDateTime } from '../lib/format.ts';
import { Notice } from '../ui.tsx';
import { ReasonAction, RemoteList, type Row } from './remote-list.tsx';

export function InvoicesView() {
  const [message, setMessage] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const download = async (row: Row) => {
    const name = String(row.invoiceNumber ?? row.number ?? row.id);
    const failure = await downloadFile(`/api/v1/invoices/${encodeURIComponent(String(row.id))}.pdf`, `${name}.pdf`);
    setMessage(failure ? `The PDF could not be downloaded: ${failure.message}` : null);
  };
  return (
    <div class="stack">
      {message && <Notice kind="error">{message}</Notice>}
      <RemoteList
        path="/api/v1/invoices"
        what="Invoices"
        csvName="invoices"
        empty="No invoices yet."
        skip={[
          'id',
          'invoiceNumber',
          'kind',
          'issuedAt',
          'totals',
          'lines',
          'sessions',
          'series',
          'number',
          'idTokenId',
          'customerId',
          'creditsInvoiceId',
        ]}
        columns={[
          { header: 'Invoice', value: (row) => row.invoiceNumber ?? row.number ?? row.id },
          { header: 'Kind', value: (row) => row.kind },
          { header: 'Issued', value: (row) => row.issuedAt, render: (row) => formatDateTime(row.issuedAt as string) },
          {
            header: 'Total incl. VAT',
            value: (row) => (row.totals as { inclVat?: string } | undefined)?.inclVat,
            render: (row) =>
              formatAmount((row.totals as { inclVat?: string } | undefined)?.inclVat, row.currency as string),
            numeric: true,
          },
        ]}
        reloadKey={reloadKey}
        actions={(row) => (
          <>
            <button type="button" class="secondary" onClick={() => download(row)}>
              PDF
            </button>
            {row.kind !== 'credit_note' && row.type !== 'credit_note' && (
              <ReasonAction
                label="Credit note"
                danger
                onSubmit={async (reason) => {
                  const result = await postJson(`/api/v1/invoices/${encodeURIComponent(String(row.id))}/credit-notes`, {
                    reason,
                  });
                  if (!result.ok)
                    return result.error.kind === 'unavailable'
                      ? 'Credit notes are not available on this server yet.'
                      : result.error.message;
                  setReloadKey((k) => k + 1);
                  return null;
                }}
              />
            )}
          </>
        )}
      />
    </div>
  );
}
