import { useState, type FormEvent } from "react";

import { CopyButton } from "../components/CopyButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { parseLabels, parseTtlMinutes } from "../enroll";
import { formatDateTime, shortId } from "../format";
import { TokenState, type CreateTokenResponse, type TokenInfo } from "../gen/decnet/api/v1/token_service_pb";
import { useResource, useSession } from "../session";

const stateLabels: Record<TokenState, string> = {
  [TokenState.UNSPECIFIED]: "unknown",
  [TokenState.VALID]: "valid",
  [TokenState.USED]: "used",
  [TokenState.EXPIRED]: "expired",
  [TokenState.REVOKED]: "revoked",
};

export function EnrollPage() {
  const { api, role } = useSession();
  const tokens = useResource((a, signal) => a.tokens.listTokens({}, { signal }), []);
  const [name, setName] = useState("");
  const [ttl, setTtl] = useState("15");
  const [labels, setLabels] = useState("");
  const [formError, setFormError] = useState("");
  const [callError, setCallError] = useState<unknown>(undefined);
  const [created, setCreated] = useState<CreateTokenResponse | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState("");

  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    setFormError("");
    setCallError(undefined);
    const parsedTtl = parseTtlMinutes(ttl);
    if (!parsedTtl.ok) {
      setFormError(parsedTtl.error);
      return;
    }
    const parsedLabels = parseLabels(labels);
    if (!parsedLabels.ok) {
      setFormError(parsedLabels.error);
      return;
    }
    setBusy(true);
    try {
      const res = await api.tokens.createToken({
        agentName: name.trim(),
        ttl: { seconds: BigInt(parsedTtl.value * 60), nanos: 0 },
        labels: parsedLabels.value,
      });
      setCreated(res);
      setName("");
      setLabels("");
      tokens.reload();
    } catch (err) {
      setCallError(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (token: TokenInfo): Promise<void> => {
    setCallError(undefined);
    try {
      await api.tokens.revokeToken({ agentId: token.agentId });
      setConfirming("");
      tokens.reload();
    } catch (err) {
      setCallError(err);
    }
  };

  return (
    <>
      <h1 tabIndex={-1}>Enroll a sensor</h1>
      <ol className="steps">
        <li>Name the new agent and create a single-use bootstrap token.</li>
        <li>Copy the install line and run it as root on the sensor. It installs, enrolls and starts the agent.</li>
        <li>The agent appears on the Fleet page once it has enrolled.</li>
      </ol>

      {created === undefined ? (
        <form className="stack-form" onSubmit={(e) => void submit(e)} aria-label="Create bootstrap token">
          <label>
            Agent name
            <input
              name="agent-name"
              required
              maxLength={64}
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. dmz-sensor-1"
            />
          </label>
          <label>
            Token lifetime in minutes (at most 7 days)
            <input name="ttl" inputMode="numeric" required value={ttl} onChange={(e) => setTtl(e.target.value)} />
          </label>
          <label>
            Labels (optional, key=value separated by commas)
            <input
              name="labels"
              value={labels}
              onChange={(e) => setLabels(e.target.value)}
              placeholder="site=paris, zone=dmz"
            />
          </label>
          {formError !== "" && (
            <p className="error" role="alert">
              {formError}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create token"}
          </button>
        </form>
      ) : (
        <CreatedToken created={created} onDone={() => setCreated(undefined)} />
      )}
      <ErrorNotice error={callError} role={role} />

      <h2>Bootstrap tokens</h2>
      <ErrorNotice error={tokens.error} role={role} />
      {tokens.data !== undefined && tokens.data.tokens.length === 0 && (
        <p className="empty">No tokens yet. Create one above to enroll your first sensor.</p>
      )}
      {tokens.data !== undefined && tokens.data.tokens.length > 0 && (
        <table className="tokens">
          <thead>
            <tr>
              <th>agent</th>
              <th>agent id</th>
              <th>labels</th>
              <th>created (UTC)</th>
              <th>expires (UTC)</th>
              <th>state</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.tokens.map((t) => (
              <tr key={t.agentId}>
                <td>{t.agentName}</td>
                <td className="mono" title={t.agentId}>
                  {shortId(t.agentId)}
                </td>
                <td className="mono">
                  {Object.entries(t.labels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(", ")}
                </td>
                <td className="mono">{formatDateTime(t.createdAt)}</td>
                <td className="mono">{formatDateTime(t.expiresAt)}</td>
                <td>{stateLabels[t.state]}</td>
                <td>
                  {t.state === TokenState.VALID &&
                    (confirming === t.agentId ? (
                      <span className="confirm">
                        Revoke the token for {t.agentName}?{" "}
                        <button type="button" className="danger" onClick={() => void revoke(t)}>
                          Revoke
                        </button>{" "}
                        <button type="button" className="link" onClick={() => setConfirming("")} autoFocus>
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button type="button" onClick={() => setConfirming(t.agentId)}>
                        Revoke…
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

// The token and install line, shown once: the server keeps only a hash.
function CreatedToken({ created, onDone }: { created: CreateTokenResponse; onDone: () => void }) {
  return (
    <section className="once" aria-labelledby="created-token-title">
      <h2 id="created-token-title">Token for {created.info?.agentName ?? "the new agent"}</h2>
      <p className="notice">
        This is the only time the token is shown. It enrolls one agent and expires{" "}
        {formatDateTime(created.info?.expiresAt)} UTC.
      </p>
      {created.installCommand !== "" ? (
        <>
          <h3>Install line (run as root on the sensor)</h3>
          <pre className="copyable" data-testid="install-command">
            {created.installCommand}
          </pre>
          <CopyButton text={created.installCommand} label="Copy install line" />
        </>
      ) : (
        <p className="notice">
          The server knows no enrollment address sensors can reach, so it gives no install line.
          Enroll by hand with the token below.
        </p>
      )}
      <h3>Token</h3>
      <pre className="copyable" data-testid="bootstrap-token">
        {created.token}
      </pre>
      <CopyButton text={created.token} label="Copy token" />
      <p>
        <button type="button" onClick={onDone}>
          Done, I have copied it
        </button>
      </p>
    </section>
  );
}
