import { useState } from "react";

import { ErrorNotice } from "../components/ErrorNotice";
import { escapeControl, formatDateTime } from "../format";
import type { AuditEntry } from "../gen/decnet/api/v1/audit_service_pb";
import { roleLabel } from "../nav";
import { useResource, useSession } from "../session";

const pageSize = 100;

// Strips the Connect path down to "Service/Method" for a dense table.
export function shortProcedure(procedure: string): string {
  return procedure.replace(/^\/?decnet\.api\.v1\./, "");
}

export function AuditPage() {
  const { api, role } = useSession();
  const [user, setUser] = useState("");
  const [applied, setApplied] = useState("");
  // Entries of pages loaded with "Load older", after the first page.
  const [older, setOlder] = useState<{ entries: AuditEntry[]; next: string } | undefined>(undefined);
  const [moreError, setMoreError] = useState<unknown>(undefined);

  const first = useResource(
    (a, signal) => a.audit.listAuditLog({ pageSize, username: applied }, { signal }),
    [applied],
  );
  const entries = [...(first.data?.entries ?? []), ...(older?.entries ?? [])];
  const next = older === undefined ? (first.data?.nextPageToken ?? "") : older.next;

  const loadOlder = async (): Promise<void> => {
    setMoreError(undefined);
    try {
      const res = await api.audit.listAuditLog({ pageSize, pageToken: next, username: applied });
      setOlder((cur) => ({ entries: [...(cur?.entries ?? []), ...res.entries], next: res.nextPageToken }));
    } catch (err) {
      setMoreError(err);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>Audit log</h1>
      <p className="hint">
        Every call that changed something, newest first: who made it, from where, the request with
        its secret fields removed, and the outcome. The list loads when the page opens; use Reload
        for newer entries.
      </p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setOlder(undefined);
          setApplied(user.trim());
        }}
      >
        <label>
          User{" "}
          <input name="audit-user" value={user} onChange={(e) => setUser(e.target.value)} placeholder="all users" />
        </label>
        <button type="submit">Filter</button>
        <button
          type="button"
          onClick={() => {
            setOlder(undefined);
            first.reload();
          }}
        >
          Reload
        </button>
      </form>
      <ErrorNotice error={first.error} role={role} />
      {first.data !== undefined && entries.length === 0 && (
        <p className="empty">
          {applied === ""
            ? "No changes recorded yet. Creating a user or an enrollment token adds the first entry."
            : `No entries for user "${applied}".`}
        </p>
      )}
      {entries.length > 0 && (
        <table className="audit">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>user</th>
              <th>role</th>
              <th>source</th>
              <th>procedure</th>
              <th>outcome</th>
              <th>request</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td className="mono">{formatDateTime(e.time)}</td>
                <td>{e.username}</td>
                <td>{roleLabel(e.role)}</td>
                <td className="mono">{e.source}</td>
                <td className="mono" title={e.procedure}>
                  {shortProcedure(e.procedure)}
                </td>
                <td className={e.outcome === "ok" ? "outcome-ok" : "outcome-rejected"}>{e.outcome}</td>
                <td className="mono detail">{escapeControl(e.request)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorNotice error={moreError} role={role} />
      {next !== "" && (
        <p>
          <button type="button" onClick={() => void loadOlder()}>
            Load older
          </button>
        </p>
      )}
    </>
  );
}
