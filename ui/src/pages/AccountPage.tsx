import { useState, type FormEvent } from "react";

import {
  checkScopes,
  checkTokenName,
  defaultTtlSeconds,
  parseScopes,
  scopesLabel,
  tokenRoleChoices,
  tokenStatus,
  tokenTtlChoices,
} from "../apitoken";
import { CopyButton } from "../components/CopyButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { TotpEnrollment } from "../components/TotpEnrollment";
import { formatDateTime } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { ApiToken, CreateApiTokenResponse } from "../gen/decnet/api/v1/api_token_service_pb";
import { roleLabel } from "../nav";
import { useResource, useSession } from "../session";
import { codeErrorMessage, parseTotpCode } from "../totp";

export function AccountPage() {
  const { username, role } = useSession();
  return (
    <>
      <h1 tabIndex={-1}>Account of {username}</h1>
      <p className="hint">You are signed in as {roleLabel(role)}.</p>
      <TwoFactorSection />
      <ApiTokensSection />
    </>
  );
}

function TwoFactorSection() {
  const { api, role, onUnauthenticated } = useSession();
  const me = useResource((a, signal) => a.users.getCurrentUser({}, { signal }), []);
  const [mode, setMode] = useState<"idle" | "enroll" | "disable">("idle");
  const [code, setCode] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const enabled = me.data?.user?.totpEnabled === true;

  const disable = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const parsed = parseTotpCode(code);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError("");
    try {
      await api.users.disableTotp({ code: parsed.value });
      setMode("idle");
      setCode("");
      me.reload();
    } catch (err) {
      setError(codeErrorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="totp-title">
      <h2 id="totp-title">Two-factor login</h2>
      <ErrorNotice error={me.error} role={role} />
      {me.data !== undefined && (
        <p data-testid="totp-status">
          Status: <strong>{enabled ? "on" : "off"}</strong>
          {enabled
            ? ". Logins ask for the code of your authenticator app."
            : ". Logins need only your password."}
        </p>
      )}
      {me.data !== undefined && !enabled && mode !== "enroll" && (
        <button type="button" onClick={() => setMode("enroll")}>
          Turn on two-factor login…
        </button>
      )}
      {mode === "enroll" && (
        <TotpEnrollment
          api={api}
          onUnauthenticated={onUnauthenticated}
          onCancel={() => setMode("idle")}
          onConfirmed={() => {
            setMode("idle");
            me.reload();
          }}
        />
      )}
      {enabled && mode !== "disable" && (
        <button type="button" onClick={() => setMode("disable")}>
          Turn off two-factor login…
        </button>
      )}
      {enabled && mode === "disable" && (
        <form className="inline-form" onSubmit={(e) => void disable(e)} aria-label="Turn off two-factor login">
          <label>
            Current code{" "}
            <input
              name="totp-disable-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              required
              maxLength={8}
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </label>
          <button type="submit" className="danger" disabled={busy}>
            Turn off
          </button>{" "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setMode("idle");
              setError("");
            }}
          >
            Cancel
          </button>
        </form>
      )}
      {error !== "" && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function ApiTokensSection() {
  const { api, role } = useSession();
  const tokens = useResource((a, signal) => a.apiTokens.listApiTokens({}, { signal }), []);
  const roles = tokenRoleChoices(role);
  const [name, setName] = useState("");
  const [tokenRole, setTokenRole] = useState<Role>(role);
  const [ttl, setTtl] = useState(defaultTtlSeconds);
  const [scopes, setScopes] = useState("");
  const [formError, setFormError] = useState("");
  const [callError, setCallError] = useState<unknown>(undefined);
  const [created, setCreated] = useState<CreateApiTokenResponse | undefined>(undefined);
  const [confirming, setConfirming] = useState("");
  const [busy, setBusy] = useState(false);
  const now = Date.now();

  const create = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    setCallError(undefined);
    const scopeList = parseScopes(scopes);
    let problem = checkTokenName(name);
    if (problem === "") {
      problem = checkScopes(scopeList);
    }
    setFormError(problem);
    if (problem !== "") {
      return;
    }
    setBusy(true);
    try {
      const res = await api.apiTokens.createApiToken({
        name: name.trim(),
        role: tokenRole,
        ttl: { seconds: BigInt(ttl), nanos: 0 },
        scopes: scopeList,
      });
      setCreated(res);
      setName("");
      setScopes("");
      tokens.reload();
    } catch (err) {
      setCallError(err);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (t: ApiToken): Promise<void> => {
    setCallError(undefined);
    try {
      await api.apiTokens.revokeApiToken({ id: t.id });
      setConfirming("");
      tokens.reload();
    } catch (err) {
      setCallError(err);
    }
  };

  const list = tokens.data?.tokens ?? [];

  return (
    <section aria-labelledby="api-tokens-title">
      <h2 id="api-tokens-title">API tokens</h2>
      <p className="hint">
        Tokens let scripts and the CLI call the API as you, with at most the role you choose. Pass one
        as <code>Authorization: Bearer &lt;token&gt;</code>. A token cannot change two-factor login.
      </p>
      <p className="hint">
        Scopes narrow a token further, separated by commas: <code>events:read</code> reads events,{" "}
        <code>webhooks:write</code> manages webhooks, <code>*:read</code> reads everything. Leave the
        field empty for everything the role allows.
      </p>
      {created !== undefined ? (
        <section className="once" aria-labelledby="created-api-token-title">
          <h3 id="created-api-token-title">Token {created.token?.name}</h3>
          <p className="notice">
            This is the only time the token is shown; the server keeps only its hash. It expires{" "}
            {formatDateTime(created.token?.expiresAt)} UTC.
          </p>
          <pre className="copyable" data-testid="api-token-secret">
            {created.secret}
          </pre>
          <CopyButton text={created.secret} label="Copy token" />{" "}
          <button type="button" onClick={() => setCreated(undefined)}>
            Done, I have copied it
          </button>
        </section>
      ) : (
        <form className="inline-form" onSubmit={(e) => void create(e)} aria-label="Create API token">
          <label>
            Name{" "}
            <input
              name="api-token-name"
              required
              maxLength={64}
              placeholder="siem-pull"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <label>
            Role{" "}
            <select
              name="api-token-role"
              value={tokenRole}
              onChange={(e) => setTokenRole(Number(e.target.value) as Role)}
            >
              {roles.map((r) => (
                <option key={r} value={r}>
                  {roleLabel(r)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Scopes{" "}
            <input
              name="api-token-scopes"
              placeholder="events:read, attackers:read"
              value={scopes}
              onChange={(e) => setScopes(e.target.value)}
            />
          </label>
          <label>
            Valid for{" "}
            <select name="api-token-ttl" value={ttl} onChange={(e) => setTtl(Number(e.target.value))}>
              {tokenTtlChoices.map((c) => (
                <option key={c.seconds} value={c.seconds}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create token"}
          </button>
        </form>
      )}
      {formError !== "" && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
      <ErrorNotice error={callError} role={role} />
      <ErrorNotice error={tokens.error} role={role} />
      {tokens.data !== undefined && list.length === 0 && (
        <p className="empty">You have no API tokens. Create one above for a script or the CLI.</p>
      )}
      {list.length > 0 && (
        <table className="api-tokens">
          <thead>
            <tr>
              <th>name</th>
              <th>role</th>
              <th>scopes</th>
              <th>created (UTC)</th>
              <th>expires (UTC)</th>
              <th>state</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((t) => {
              const status = tokenStatus(t, now);
              return (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>{roleLabel(t.role)}</td>
                  <td className="mono">{scopesLabel(t)}</td>
                  <td className="mono">{formatDateTime(t.createdAt)}</td>
                  <td className="mono">{formatDateTime(t.expiresAt)}</td>
                  <td>{status === "revoked" ? `revoked ${formatDateTime(t.revokedAt)}` : status}</td>
                  <td>
                    {status === "active" &&
                      (confirming === t.id ? (
                        <span className="confirm">
                          Revoke {t.name}? Scripts using it stop working.{" "}
                          <button type="button" className="danger" onClick={() => void revoke(t)}>
                            Revoke
                          </button>{" "}
                          <button type="button" className="link" onClick={() => setConfirming("")} autoFocus>
                            Cancel
                          </button>
                        </span>
                      ) : (
                        <button type="button" onClick={() => setConfirming(t.id)}>
                          Revoke…
                        </button>
                      ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
