/** The audit log (append-only, hash-chained): who changed what, when, from where. */
import { useState } from 'preact/hooks';
import { RemoteList } from './remote-list.tsx';

export function AuditView() {
  const [query, setQuery] = useState('');
  return (
    <div class="stack">
      <form
        class="filters"
        aria-label="Audit filters"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget as HTMLFormElement);
          const params = new URLSearchParams();
          for (const name of ['action', 'subjectType', 'from', 'to']) {
            const value = String(form.get(name) ?? '').trim();
            if (value)
              params.set(name, name === 'from' || name === 'to' ? new Date(`${value}T00:00:00`).toISOString() : value);
          }
          setQuery(params.toString());
        }}
      >
        <label>
          Action
          <input name="action" placeholder="e.g. tariff.create" />
        </label>
        <label>
          Subject type
          <input name="subjectType" placeholder="e.g. session" />
        </label>
        <label>
          From
          <input name="from" type="date" />
        </label>
        <label>
          To
          <input name="to" type="date" />
        </label>
        <button type="submit">Apply</button>
      </form>
      <RemoteList
        path={`/api/v1/audit${query ? `?${query}` : ''}`}
        what="Audit log"
        csvName="audit-log"
        empty="No audit entries match."
        skip={['before', 'after', 'prevHash']}
      />
    </div>
  );
}
