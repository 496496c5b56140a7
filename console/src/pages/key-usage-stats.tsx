/** A key's exact verification counts per hour of the last 24 hours, by verdict: a bar row and a small table. */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { AuditService, UsageGranularity } from "../../../src/gen/apikeys/v1/audit_service_pb.js";
import { ErrorNotice } from "../components/error-notice.js";
import { codeLabel, formatCount, formatTime, isoTime } from "../format.js";
import { barPercent, countOf, summarizeUsage } from "../usage-stats.js";

const hour = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

export function KeyUsageStats({ keyId }: { readonly keyId: string }) {
  // Default range: the 24 hours up to now.
  const stats = useQuery(AuditService.method.getUsageStats, { keyId, granularity: UsageGranularity.HOUR });
  const buckets = stats.data?.buckets ?? [];
  const summary = summarizeUsage(buckets);
  return (
    <section aria-labelledby="usage-stats-heading">
      <h2 id="usage-stats-heading">Requests in the last 24 hours</h2>
      <ErrorNotice error={stats.error} />
      {stats.data === undefined ? null : (
        <>
          <p className="usage-summary">
            <strong>{formatCount(summary.total)}</strong> verifications
            {summary.codes.map(([code, count]) => (
              <span key={code}>
                {" · "}
                {codeLabel(code)} {formatCount(count)}
              </span>
            ))}
            . Counts are exact and appear within seconds.
          </p>
          <ol className="usage-bars" aria-label="Verifications per hour">
            {buckets.map((bucket) => {
              const label = `${bucket.startTime === undefined ? "—" : hour.format(timestampDate(bucket.startTime))}: ${formatCount(bucket.total)}`;
              return (
                <li key={isoTime(bucket.startTime)} title={label}>
                  <span className="bar" style={{ height: `${barPercent(bucket.total, summary.busiest)}%` }} />
                  <span className="visually-hidden">{label}</span>
                </li>
              );
            })}
          </ol>
          {summary.busyBuckets.length === 0 ? (
            <p className="empty">No verifications in the last 24 hours.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Verifications per hour</caption>
                <thead>
                  <tr>
                    <th scope="col">Hour</th>
                    <th scope="col" className="numeric">
                      Total
                    </th>
                    {summary.codes.map(([code]) => (
                      <th scope="col" className="numeric" key={code}>
                        {codeLabel(code)}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {summary.busyBuckets.map((bucket) => (
                    <tr key={isoTime(bucket.startTime)}>
                      <th scope="row">
                        <time dateTime={isoTime(bucket.startTime)}>{formatTime(bucket.startTime)}</time>
                      </th>
                      <td className="numeric">{formatCount(bucket.total)}</td>
                      {summary.codes.map(([code]) => (
                        <td className="numeric" key={code}>
                          {formatCount(countOf(bucket, code))}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
