import { useMemo, useState } from "react";

import { CredentialTable } from "../components/CredentialTable";
import { ErrorNotice } from "../components/ErrorNotice";
import { reuseAttackerCount, reuseTargets } from "../credential";
import { escapeControl, toHex } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { useResource, useSession, useThrottled } from "../session";
import type { EventStreamState } from "../useEventStream";

const pageSize = 500;
const reusePageSize = 50;

// Reloads triggered by live events happen at most this often.
const reloadThrottleMs = 1000;

export function CredentialsPage({ stream }: { stream: EventStreamState }) {
  const { role } = useSession();
  const [principal, setPrincipal] = useState("");
  const [applied, setApplied] = useState("");

  // A new newest login attempt in the live feed reloads the list; other
  // events do not change it.
  const newestAuth = useMemo(
    () => stream.events.find((s) => s.event?.payload.case === "authAttempt")?.event?.id ?? "",
    [stream.events],
  );
  const authSeen = useThrottled(newestAuth, reloadThrottleMs);
  const list = useResource(
    (api, signal) => api.credentials.listCredentials({ pageSize, principal: applied }, { signal }),
    [applied, authSeen],
  );
  const reuse = useResource(
    (api, signal) => api.credentials.listCredentialReuse({ pageSize: reusePageSize }, { signal }),
    [authSeen],
  );

  return (
    <>
      <h1 tabIndex={-1}>Credentials</h1>
      <p className="hint">
        User names and secrets attackers tried on the decoys, newest first, updated live.
        {role < Role.ANALYST &&
          " Your role sees every field except the secret values, which are hidden for your role."}
      </p>
      <section aria-labelledby="reuse-title">
        <h2 id="reuse-title">Reused across targets</h2>
        <ErrorNotice error={reuse.error} role={role} />
        {reuse.data !== undefined && reuse.data.reuse.length === 0 && (
          <p className="empty">
            No credential was tried on more than one decoy yet. A credential shows up here when the
            same user name and secret reach two decky or service targets.
          </p>
        )}
        {reuse.data !== undefined && reuse.data.reuse.length > 0 && (
          <table className="reuse">
            <thead>
              <tr>
                <th>principal</th>
                <th>secret kind</th>
                <th>secret SHA-256</th>
                <th className="num">attackers</th>
                <th>targets</th>
              </tr>
            </thead>
            <tbody>
              {reuse.data.reuse.map((r) => {
                const digest = toHex(r.secretSha256);
                return (
                  <tr key={`${r.principal}/${r.secretKind}/${digest}`}>
                    <td className="principal">{escapeControl(r.principal) || "(none)"}</td>
                    <td className="mono">{escapeControl(r.secretKind)}</td>
                    <td className="mono" title={digest}>
                      {digest.slice(0, 12)}
                    </td>
                    <td className="num">{reuseAttackerCount(r)}</td>
                    <td>{escapeControl(reuseTargets(r))}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      <h2>All attempts</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(principal.trim());
        }}
      >
        <label>
          Principal{" "}
          <input value={principal} onChange={(e) => setPrincipal(e.target.value)} placeholder="e.g. root" />
        </label>
        <button type="submit">Filter</button>
        {applied !== "" && (
          <button
            type="button"
            className="link"
            onClick={() => {
              setPrincipal("");
              setApplied("");
            }}
          >
            Clear filter
          </button>
        )}
      </form>
      <ErrorNotice error={list.error} role={role} />
      {list.data !== undefined && (
        <CredentialTable
          credentials={list.data.credentials}
          showAttacker
          empty={
            applied === ""
              ? "No credentials captured yet. They appear when someone tries to log in to a decoy; the Fleet page lists the decoy addresses."
              : `No credentials with principal "${applied}".`
          }
        />
      )}
    </>
  );
}
