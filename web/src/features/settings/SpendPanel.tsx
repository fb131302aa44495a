import type { SpendReport } from '../../api/types';
import { Alert } from '../../components/Alert';
import { Loading } from '../../components/Loading';
import { formatMoney } from '../../lib/money';
import { SPEND_DAYS, useSpend } from './api';

export const SPEND_NOTE =
  'These are estimates, made from fal’s published prices when each job started; your fal invoice is what counts.';

/** `2026-11-25` → "Wed, Nov 25" (read as a calendar day, not shifted by the time zone). */
export function formatDay(day: string, locale?: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(date);
}

const jobsText = (jobs: number) => `${jobs} job${jobs === 1 ? '' : 's'}`;

function Report({ report }: { report: SpendReport }) {
  // The estimates are fal's prices, in US dollars; the report names no currency when no job had
  // a price, and its zeros are dollars all the same.
  const money = (amount: number) => formatMoney(amount, report.currency ?? 'USD');
  const days = [...report.byDay].sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0));
  const models = [...report.byModel].sort((a, b) => b.total - a.total);
  const highest = Math.max(0, ...days.map((day) => day.total));
  const jobs = days.reduce((sum, day) => sum + day.jobs, 0);

  return (
    <>
      <p className="spend-total">
        Total: <strong data-testid="spend-total">{money(report.total)}</strong>
        {jobs > 0 && <span className="muted"> · {jobsText(jobs)}</span>}
      </p>
      {days.length === 0 ? (
        <p className="muted">No jobs in the last {SPEND_DAYS} days.</p>
      ) : (
        <>
          <h3>By day</h3>
          <table className="spend-table" aria-label="Spend by day">
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">
                  <span className="visually-hidden">Share of the busiest day</span>
                </th>
                <th scope="col" className="num">
                  Jobs
                </th>
                <th scope="col" className="num">
                  Estimated
                </th>
              </tr>
            </thead>
            <tbody>
              {days.map((day) => (
                <tr key={day.day}>
                  <th scope="row">
                    <time dateTime={day.day}>{formatDay(day.day)}</time>
                  </th>
                  <td>
                    <meter min={0} max={highest > 0 ? highest : 1} value={day.total} aria-label={`${formatDay(day.day)}: ${money(day.total)}`} />
                  </td>
                  <td className="num">{day.jobs}</td>
                  <td className="num">{money(day.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>By model</h3>
          <table className="spend-table" aria-label="Spend by model">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col" className="num">
                  Jobs
                </th>
                <th scope="col" className="num">
                  Estimated
                </th>
              </tr>
            </thead>
            <tbody>
              {models.map((model) => (
                <tr key={model.endpointId}>
                  <th scope="row">
                    {model.modelName ?? model.endpointId}
                    {model.modelName !== null && (
                      <>
                        {' '}
                        <code className="muted">{model.endpointId}</code>
                      </>
                    )}
                  </th>
                  <td className="num">{model.jobs}</td>
                  <td className="num">{money(model.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

export function SpendPanel() {
  const spend = useSpend();
  return (
    <section className="card spend" aria-labelledby="spend-heading">
      <h2 id="spend-heading">Spend, last {SPEND_DAYS} days</h2>
      <p className="muted">{SPEND_NOTE}</p>
      {spend.isPending && <Loading label="Loading spend…" />}
      {spend.isError && (
        <>
          <Alert tone="error">Could not load spend: {spend.error.message}</Alert>
          <button type="button" className="button" onClick={() => void spend.refetch()} disabled={spend.isFetching}>
            Try again
          </button>
        </>
      )}
      {spend.isSuccess && <Report report={spend.data} />}
    </section>
  );
}
