import { useState } from "react";

import { isCanceled, isUnauthenticated } from "../api";
import { formatDateTime } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import {
  IntelVerdict,
  type GetAttackerIntelResponse,
  type IntelReport,
} from "../gen/decnet/api/v1/intel_service_pb";
import { evidenceEntries, formatLocation, intelView, providerLink, skippedText, verdictLabel } from "../intel";
import { useResource, useSession } from "../session";
import { ErrorNotice } from "./ErrorNotice";

type IntelData = Pick<GetAttackerIntelResponse, "verdict" | "reports">;

export function VerdictBadge({ verdict }: { verdict: IntelVerdict }) {
  const label = verdictLabel(verdict);
  return (
    <span className={`verdict verdict-${label}`} data-testid="intel-verdict">
      {label}
    </span>
  );
}

// Threat-intel panel of the attacker page. Lookups go out from the server;
// the browser only talks to the control plane.
export function IntelPanel({ attackerId }: { attackerId: string }) {
  const { api, role, onUnauthenticated } = useSession();
  const loaded = useResource((a, signal) => a.intel.getAttackerIntel({ attackerId }, { signal }), [attackerId]);
  const [refreshed, setRefreshed] = useState<IntelData | undefined>(undefined);
  const [refreshError, setRefreshError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const refresh = async (): Promise<void> => {
    setBusy(true);
    setRefreshError(undefined);
    try {
      const res = await api.intel.refreshAttackerIntel({ attackerId });
      setRefreshed(res);
    } catch (err) {
      if (isUnauthenticated(err)) {
        onUnauthenticated();
      } else if (!isCanceled(err)) {
        setRefreshError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  const data = refreshed ?? loaded.data;
  return (
    <section aria-labelledby="intel-title" className="intel">
      <h2 id="intel-title">Threat intel</h2>
      <ErrorNotice error={loaded.error} role={role} />
      <ErrorNotice error={refreshError} role={role} />
      {data === undefined && loaded.loading && <p className="empty">Looking the addresses up…</p>}
      {data !== undefined && <IntelBody data={data} />}
      {role >= Role.ADMIN && data !== undefined && intelView(data).kind === "reports" && (
        <button type="button" onClick={() => void refresh()} disabled={busy}>
          {busy ? "Looking up…" : "Refresh intel"}
        </button>
      )}
    </section>
  );
}

export function IntelBody({ data }: { data: IntelData }) {
  const view = intelView(data);
  switch (view.kind) {
    case "no-address":
      return <p className="empty">This attacker has no address to look up.</p>;
    case "no-provider":
      return (
        <div className="empty" data-testid="intel-empty">
          <p>No threat-intel provider is configured, so addresses are not looked up.</p>
          <p>
            Start <code>decnet server</code> with <code>--intel-greynoise</code>, <code>--intel-feodo</code>,{" "}
            <code>--intel-drop</code> or <code>--intel-rdns</code>, or give it an AbuseIPDB or ThreatFox key in{" "}
            <code>DECNET_INTEL_ABUSEIPDB_KEY</code> or <code>DECNET_INTEL_THREATFOX_KEY</code>.{" "}
            <code>--intel-geoip-location</code> and <code>--intel-geoip-asn</code> add location and AS from
            MaxMind-format files.
          </p>
        </div>
      );
    case "reports":
      return (
        <>
          <p>
            Verdict: <VerdictBadge verdict={view.verdict} />
          </p>
          {view.reports.map((r) => (
            <IntelReportView key={r.address} report={r} />
          ))}
        </>
      );
  }
}

function IntelReportView({ report }: { report: IntelReport }) {
  const location = formatLocation(report.location);
  return (
    <div className="intel-report">
      <h3>
        <span className="mono">{report.address}</span> <VerdictBadge verdict={report.verdict} />
      </h3>
      {location !== "" && <p data-testid="intel-location">{location}</p>}
      {report.skipped !== "" && <p className="hint">{skippedText(report.skipped)}</p>}
      {report.checkedAt !== undefined && (
        <p className="hint">
          checked {formatDateTime(report.checkedAt)} UTC{report.cached ? " (cached)" : ""}
        </p>
      )}
      {report.results.length > 0 && (
        <table className="intel-results">
          <thead>
            <tr>
              <th>provider</th>
              <th>verdict</th>
              <th>reason</th>
              <th>evidence</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {report.results.map((res) => {
              const link = providerLink(res.link);
              return (
                <tr key={res.provider}>
                  <td>{res.provider}</td>
                  <td>{res.error !== "" ? <span className="warn">error: {res.error}</span> : <VerdictBadge verdict={res.verdict} />}</td>
                  <td>{res.reason}</td>
                  <td>
                    {evidenceEntries(res.evidence).length > 0 && (
                      <dl className="evidence">
                        {evidenceEntries(res.evidence).map(([k, v]) => (
                          <div key={k}>
                            <dt>{k}</dt>
                            <dd className="mono">{v}</dd>
                          </div>
                        ))}
                      </dl>
                    )}
                  </td>
                  <td>
                    {link !== "" && (
                      <a href={link} target="_blank" rel="noopener noreferrer">
                        details at {res.provider}
                      </a>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
