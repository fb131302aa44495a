import { useId, useState } from 'react';
import type { UsageGroup, UsageLine } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Loading } from '../../components/Loading';
import { formatUsd } from '../../lib/budget';
import { useUsage } from './api';
import { UsageChart } from './UsageChart';
import { csvFileName, estimateText, isUsageGroup, monthToDate, rangeProblem, USAGE_GROUPS, usageCsv, usageTotal } from './usage';

const GROUP_COLUMN: Record<UsageGroup, string> = { user: 'Account', model: 'Model', day: 'Day' };

/** Saves the rows as a CSV file, made here from what is on screen. */
function downloadCsv(rows: readonly UsageLine[], fileName: string) {
  const url = URL.createObjectURL(new Blob([usageCsv(rows)], { type: 'text/csv;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once started.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function UsageTable({ rows, groupBy }: { rows: readonly UsageLine[]; groupBy: UsageGroup }) {
  const reconciled = rows.some((row) => row.reconciledUsd != null);
  return (
    <div className="table-scroll" role="region" aria-label="Usage table" tabIndex={0}>
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">{GROUP_COLUMN[groupBy]}</th>
            <th scope="col" className="num">
              Jobs
            </th>
            <th scope="col" className="num">
              Estimated
            </th>
            {reconciled && (
              <th scope="col" className="num">
                Charged (fal)
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">
                {row.label}
                {groupBy === 'model' && row.label !== row.key && (
                  <>
                    {' '}
                    <code className="muted">{row.key}</code>
                  </>
                )}
              </th>
              <td className="num">{row.jobs}</td>
              <td className={row.jobs > 0 && row.unpricedJobs >= row.jobs ? 'num muted' : 'num'}>{estimateText(row)}</td>
              {reconciled && <td className="num">{row.reconciledUsd == null ? '—' : formatUsd(row.reconciledUsd)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Estimated spend of completed jobs over a range of days, by account, model or day. */
export function UsagePanel() {
  const [range, setRange] = useState(monthToDate);
  const [groupBy, setGroupBy] = useState<UsageGroup>('user');
  const fromId = useId();
  const toId = useId();
  const groupId = useId();
  const problemId = useId();
  const problem = rangeProblem(range.from, range.to);
  const usage = useUsage(range.from, range.to, groupBy, problem === null);
  const rows = usage.data?.rows ?? [];
  const total = usageTotal(rows);

  return (
    <section className="card usage" aria-labelledby="usage-heading">
      <h2 id="usage-heading">Usage</h2>
      <p className="muted">
        Completed jobs, at fal’s published prices as estimated when each job started. Days are UTC.
      </p>
      <div className="usage-controls">
        <div className="field">
          <label htmlFor={fromId}>From</label>
          <input
            id={fromId}
            type="date"
            value={range.from}
            max={range.to}
            aria-invalid={problem !== null}
            aria-describedby={problem !== null ? problemId : undefined}
            onChange={(event) => setRange((prev) => ({ ...prev, from: event.target.value }))}
          />
        </div>
        <div className="field">
          <label htmlFor={toId}>To</label>
          <input
            id={toId}
            type="date"
            value={range.to}
            min={range.from}
            aria-invalid={problem !== null}
            aria-describedby={problem !== null ? problemId : undefined}
            onChange={(event) => setRange((prev) => ({ ...prev, to: event.target.value }))}
          />
        </div>
        <div className="field">
          <label htmlFor={groupId}>Group by</label>
          <select
            id={groupId}
            value={groupBy}
            onChange={(event) => {
              if (isUsageGroup(event.target.value)) setGroupBy(event.target.value);
            }}
          >
            {Object.entries(USAGE_GROUPS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="button"
          disabled={problem !== null || usage.data === undefined || usage.isPlaceholderData}
          onClick={() => downloadCsv(rows, csvFileName(range.from, range.to, groupBy))}
        >
          Download CSV
        </button>
      </div>
      {problem !== null && (
        <p id={problemId} className="field-error">
          {problem}
        </p>
      )}
      {problem === null && usage.isPending && <Loading label="Loading usage…" />}
      {problem === null && usage.isError && <Alert tone="error">Could not load usage: {usage.error.message}</Alert>}
      {problem === null && usage.data !== undefined && (
        <div aria-busy={usage.isPlaceholderData}>
          <p className="spend-total">
            Total: <strong data-testid="usage-total">{estimateText(total)}</strong>
            <span className="muted">
              {' '}
              · {usage.data.from} to {usage.data.to}
            </span>
          </p>
          {rows.length === 0 ? (
            <p className="muted">No completed jobs in these days.</p>
          ) : (
            <>
              <UsageChart rows={rows} label={`Estimated USD by ${USAGE_GROUPS[groupBy].toLowerCase()}`} />
              <UsageTable rows={rows} groupBy={groupBy} />
            </>
          )}
        </div>
      )}
    </section>
  );
}
