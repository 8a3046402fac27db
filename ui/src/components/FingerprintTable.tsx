import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { useMemo } from "react";

import { groupFingerprints } from "../fingerprints";
import { escapeControl, formatDateTime } from "../format";
import { useResource, useSession } from "../session";
import { ErrorNotice } from "./ErrorNotice";

// Events of one attacker read to find its clients.
const fingerprintPageSize = 500;

// The client software an attacker used, from the client.fingerprinted
// events of its connections.
export function FingerprintSection({ attackerId, reloadKey }: { attackerId: string; reloadKey: string }) {
  const { role } = useSession();
  const events = useResource(
    (api, signal) =>
      api.events.listEvents(
        { filter: { attackerId, kind: "client.fingerprinted" }, pageSize: fingerprintPageSize },
        { signal },
      ),
    [attackerId, reloadKey],
  );
  const rows = useMemo(() => groupFingerprints(events.data?.events ?? []), [events.data]);

  return (
    <section aria-labelledby="attacker-fingerprints-title">
      <h2 id="attacker-fingerprints-title">Client fingerprints</h2>
      <ErrorNotice error={events.error} role={role} />
      {events.data !== undefined && rows.length === 0 && (
        <p className="empty" data-testid="fingerprints-empty">
          No client fingerprint yet. SSH clients are fingerprinted when they start the key exchange, TLS clients when they
          send their ClientHello.
        </p>
      )}
      {rows.length > 0 && (
        <table className="fingerprints" data-testid="fingerprints">
          <thead>
            <tr>
              <th>service</th>
              <th>client</th>
              <th>HASSH</th>
              <th>JA4 / JA3</th>
              <th>connections</th>
              <th>last seen (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                <td>{r.service}</td>
                <td className="mono">{escapeControl(r.fingerprint.sshClientVersion) || "-"}</td>
                <td className="mono" title={escapeControl(r.fingerprint.hasshAlgorithms)}>
                  {r.fingerprint.hassh || "-"}
                </td>
                <td className="mono" title={escapeControl(r.fingerprint.ja3String)}>
                  {[escapeControl(r.fingerprint.ja4), r.fingerprint.ja3].filter((x) => x !== "").join(" / ") || "-"}
                </td>
                <td>{r.count}</td>
                <td className="mono">{formatDateTime(timestampFromMs(r.lastMs))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
