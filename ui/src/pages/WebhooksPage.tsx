import { useState, type FormEvent } from "react";

import { CopyButton } from "../components/CopyButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime, formatDuration, shortId } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import {
  WebhookFormat,
  WebhookOutcome,
  type Webhook,
  type WebhookDelivery,
} from "../gen/decnet/api/v1/webhook_service_pb";
import { useResource, useSession } from "../session";
import {
  breakerHint,
  breakerLabel,
  checkSuppressionForm,
  checkWebhookForm,
  emptySuppressionForm,
  emptyWebhookForm,
  formatChoices,
  formatLabel,
  formFromWebhook,
  graceChoices,
  outcomeLabel,
  type FormErrors,
  type SuppressionForm,
  type WebhookForm,
  type WebhookSettingsInit,
} from "../webhook";

const logLimit = 50;

// A signing secret returned by CreateWebhook or RotateWebhookSecret.
interface IssuedSecret {
  name: string;
  secret: string;
  event: "created" | "rotated";
}

type Pending = { action: "delete" | "rotate"; id: string } | undefined;

export function WebhooksPage() {
  const { api, role } = useSession();
  const isAdmin = role >= Role.ADMIN;
  const hooks = useResource((a, signal) => a.webhooks.listWebhooks({}, { signal }), []);
  const [issued, setIssued] = useState<IssuedSecret | undefined>(undefined);
  const [editing, setEditing] = useState<"new" | string | undefined>(undefined);
  const [pending, setPending] = useState<Pending>(undefined);
  const [grace, setGrace] = useState(graceChoices[0]?.seconds ?? 86400);
  const [selected, setSelected] = useState("");
  const [testResult, setTestResult] = useState<{ name: string; delivery: WebhookDelivery } | undefined>(undefined);
  const [callError, setCallError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  // Bumped after a change, so the logs below reload with the list.
  const [changes, setChanges] = useState(0);

  const list = hooks.data?.webhooks ?? [];
  const nameOf = (id: string): string => list.find((w) => w.id === id)?.name ?? shortId(id);

  const run = async (change: () => Promise<void>): Promise<boolean> => {
    setCallError(undefined);
    setBusy(true);
    try {
      await change();
      setPending(undefined);
      return true;
    } catch (err) {
      setCallError(err);
      return false;
    } finally {
      setBusy(false);
      hooks.reload();
      setChanges((c) => c + 1);
    }
  };

  const toggle = (w: Webhook): void => {
    const checked = checkWebhookForm({ ...formFromWebhook(w), enabled: !w.enabled }, "edit");
    if (!checked.ok) {
      setCallError(new Error(Object.values(checked.errors).join(" ")));
      return;
    }
    void run(async () => {
      await api.webhooks.updateWebhook({ id: w.id, settings: checked.settings });
    });
  };

  const test = (w: Webhook): void => {
    setTestResult(undefined);
    void run(async () => {
      const res = await api.webhooks.testWebhook({ id: w.id });
      if (res.delivery !== undefined) {
        setTestResult({ name: w.name, delivery: res.delivery });
      }
    });
  };

  const rotate = (w: Webhook): void => {
    void run(async () => {
      const res = await api.webhooks.rotateWebhookSecret({ id: w.id, grace: { seconds: BigInt(grace), nanos: 0 } });
      setIssued({ name: w.name, secret: res.signingSecret, event: "rotated" });
    });
  };

  const remove = (w: Webhook): void => {
    void run(async () => {
      await api.webhooks.deleteWebhook({ id: w.id });
      if (selected === w.id) {
        setSelected("");
      }
    });
  };

  const editedHook = list.find((w) => w.id === editing);

  return (
    <>
      <h1 tabIndex={-1}>Webhooks</h1>
      <p className="hint">
        Webhooks push notices (captured credentials, credential reuse, incidents) to chat, SOAR or
        SIEM endpoints. Each request is signed with the webhook's secret in the Decnet-Signature
        header. Destinations in private or loopback ranges are refused unless the server allows them.
      </p>

      {issued !== undefined && (
        <section className="once" aria-labelledby="issued-secret-title">
          <h2 id="issued-secret-title">
            Signing secret of {issued.name} ({issued.event})
          </h2>
          <p className="notice">
            This secret is shown only now. Configure the receiver to verify Decnet-Signature with it.
            {issued.event === "rotated" && " The previous secret keeps signing until the grace period ends."}
          </p>
          <pre className="copyable" data-testid="webhook-secret">
            {issued.secret}
          </pre>
          <CopyButton text={issued.secret} label="Copy secret" />{" "}
          <button type="button" onClick={() => setIssued(undefined)}>
            Done, I have copied it
          </button>
        </section>
      )}

      {isAdmin && editing === undefined && (
        <p>
          <button type="button" onClick={() => setEditing("new")}>
            New webhook…
          </button>
        </p>
      )}
      {isAdmin && editing === "new" && (
        <WebhookEditor
          title="New webhook"
          mode="create"
          initial={emptyWebhookForm}
          busy={busy}
          onCancel={() => setEditing(undefined)}
          onSubmit={(settings) =>
            void run(async () => {
              const res = await api.webhooks.createWebhook({ settings });
              setIssued({ name: res.webhook?.name ?? settings.name ?? "", secret: res.signingSecret, event: "created" });
              setEditing(undefined);
            })
          }
        />
      )}
      {isAdmin && editedHook !== undefined && (
        <WebhookEditor
          key={editedHook.id}
          title={`Edit ${editedHook.name}`}
          mode="edit"
          initial={formFromWebhook(editedHook)}
          hasAuthorization={editedHook.hasAuthorization}
          busy={busy}
          onCancel={() => setEditing(undefined)}
          onSubmit={(settings) =>
            void run(async () => {
              await api.webhooks.updateWebhook({ id: editedHook.id, settings });
              setEditing(undefined);
            })
          }
        />
      )}

      <ErrorNotice error={callError} role={role} />
      {testResult !== undefined && <TestResult name={testResult.name} delivery={testResult.delivery} onDone={() => setTestResult(undefined)} />}

      <h2>Subscriptions</h2>
      <ErrorNotice error={hooks.error} role={role} />
      {hooks.data !== undefined && list.length === 0 && (
        <p className="empty">
          No webhooks yet.{isAdmin ? " Create one above to push notices to a chat or SIEM." : " An admin can create one."}
        </p>
      )}
      {list.length > 0 && (
        <table className="webhooks">
          <thead>
            <tr>
              <th>name</th>
              <th>destination</th>
              <th>format</th>
              <th>subjects</th>
              <th>state</th>
              <th>breaker</th>
              <th>failures</th>
              <th>queued</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((w) => (
              <tr key={w.id} className={w.id === selected ? "selected" : undefined}>
                <td>{w.name}</td>
                <td className="mono">{w.destination}</td>
                <td>{formatLabel(w.format)}</td>
                <td className="mono">{w.subjects.join(", ")}</td>
                <td>
                  {w.enabled ? "enabled" : "paused"}
                  {w.previousSecretExpiresAt !== undefined && (
                    <span className="hint" title="the replaced secret still signs">
                      {" "}
                      (old secret until {formatDateTime(w.previousSecretExpiresAt)} UTC)
                    </span>
                  )}
                </td>
                <td>
                  <span
                    className={`breaker breaker-${breakerLabel(w.breaker)}`}
                    title={breakerHint(w.breaker)}
                    data-testid="webhook-breaker"
                  >
                    {breakerLabel(w.breaker)}
                  </span>
                </td>
                <td className={w.consecutiveFailures > 0 ? "warn" : undefined}>{w.consecutiveFailures}</td>
                <td>{w.queued}</td>
                <td className="actions">
                  <button type="button" onClick={() => setSelected(w.id === selected ? "" : w.id)} aria-pressed={w.id === selected}>
                    {w.id === selected ? "Hide log" : "Log"}
                  </button>
                  {isAdmin && (
                    <WebhookActions
                      hook={w}
                      busy={busy}
                      pending={pending?.id === w.id ? pending.action : undefined}
                      grace={grace}
                      onGrace={setGrace}
                      onPending={(action) => setPending(action === undefined ? undefined : { action, id: w.id })}
                      onEdit={() => setEditing(w.id)}
                      onToggle={() => toggle(w)}
                      onTest={() => test(w)}
                      onRotate={() => rotate(w)}
                      onDelete={() => remove(w)}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {selected !== "" && <DeliveryLog webhookId={selected} name={nameOf(selected)} changes={changes} />}
      {role >= Role.ANALYST && (
        <DeadLetters webhookId={selected} name={selected === "" ? "" : nameOf(selected)} changes={changes} nameOf={nameOf} />
      )}
      <Suppressions hooks={list} nameOf={nameOf} />
    </>
  );
}

interface WebhookActionsProps {
  hook: Webhook;
  busy: boolean;
  pending: "delete" | "rotate" | undefined;
  grace: number;
  onGrace: (seconds: number) => void;
  onPending: (action: "delete" | "rotate" | undefined) => void;
  onEdit: () => void;
  onToggle: () => void;
  onTest: () => void;
  onRotate: () => void;
  onDelete: () => void;
}

function WebhookActions(p: WebhookActionsProps) {
  if (p.pending === "delete") {
    return (
      <span className="confirm">
        Delete {p.hook.name} with its log and dead letters?{" "}
        <button type="button" className="danger" disabled={p.busy} onClick={p.onDelete}>
          Delete
        </button>{" "}
        <button type="button" className="link" onClick={() => p.onPending(undefined)} autoFocus>
          Cancel
        </button>
      </span>
    );
  }
  if (p.pending === "rotate") {
    return (
      <span className="confirm">
        <label>
          Old secret keeps signing for{" "}
          <select name="grace" value={p.grace} onChange={(e) => p.onGrace(Number(e.target.value))}>
            {graceChoices.map((c) => (
              <option key={c.seconds} value={c.seconds}>
                {c.label}
              </option>
            ))}
          </select>
        </label>{" "}
        <button type="button" className="danger" disabled={p.busy} onClick={p.onRotate}>
          Rotate
        </button>{" "}
        <button type="button" className="link" onClick={() => p.onPending(undefined)} autoFocus>
          Cancel
        </button>
      </span>
    );
  }
  return (
    <>
      {" "}
      <button type="button" disabled={p.busy} onClick={p.onTest}>
        Test
      </button>{" "}
      <button type="button" onClick={p.onEdit}>
        Edit…
      </button>{" "}
      <button type="button" disabled={p.busy} onClick={p.onToggle}>
        {p.hook.enabled ? "Pause" : "Enable"}
      </button>{" "}
      <button type="button" onClick={() => p.onPending("rotate")}>
        Rotate secret…
      </button>{" "}
      <button type="button" onClick={() => p.onPending("delete")}>
        Delete…
      </button>
    </>
  );
}

interface WebhookEditorProps {
  title: string;
  mode: "create" | "edit";
  initial: WebhookForm;
  hasAuthorization?: boolean;
  busy: boolean;
  onCancel: () => void;
  onSubmit: (settings: WebhookSettingsInit) => void;
}

function WebhookEditor({ title, mode, initial, hasAuthorization, busy, onCancel, onSubmit }: WebhookEditorProps) {
  const [form, setForm] = useState<WebhookForm>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const set = <K extends keyof WebhookForm>(k: K, v: WebhookForm[K]): void => setForm((f) => ({ ...f, [k]: v }));

  const submit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const checked = checkWebhookForm(form, mode);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    onSubmit(checked.settings);
  };

  const fieldError = (k: keyof WebhookForm) =>
    errors[k] !== undefined && (
      <span className="error" role="alert" id={`webhook-${k}-error`}>
        {errors[k]}
      </span>
    );

  return (
    <form className="stack-form once" onSubmit={submit} aria-label={title} noValidate>
      <h2>{title}</h2>
      <label>
        Name
        <input
          name="webhook-name"
          value={form.name}
          maxLength={100}
          autoFocus
          aria-invalid={errors.name !== undefined}
          onChange={(e) => set("name", e.target.value)}
        />
        {fieldError("name")}
      </label>
      <label>
        URL{mode === "edit" ? " (empty keeps the current one, which is never shown)" : ""}
        <input
          name="webhook-url"
          type="url"
          value={form.url}
          placeholder="https://hooks.example.com/services/…"
          aria-invalid={errors.url !== undefined}
          onChange={(e) => set("url", e.target.value)}
        />
        {fieldError("url")}
      </label>
      <label>
        Format
        <select name="webhook-format" value={form.format} onChange={(e) => set("format", Number(e.target.value) as WebhookFormat)}>
          {formatChoices.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Subjects (patterns separated by commas: credential.captured, credential.&gt;, webhook.incident)
        <input
          name="webhook-subjects"
          value={form.subjects}
          aria-invalid={errors.subjects !== undefined}
          onChange={(e) => set("subjects", e.target.value)}
        />
        {fieldError("subjects")}
      </label>
      <label>
        Deliveries per minute (empty means 60)
        <input
          name="webhook-rate"
          inputMode="numeric"
          value={form.rate}
          aria-invalid={errors.rate !== undefined}
          onChange={(e) => set("rate", e.target.value)}
        />
        {fieldError("rate")}
      </label>
      <label>
        Authorization header (optional, such as "Bearer &lt;api key&gt;" for TheHive or "Bearer &lt;JWT&gt;" for Wazuh)
        {mode === "edit" && hasAuthorization === true ? "; empty keeps the current one" : ""}
        <input
          name="webhook-authorization"
          type="password"
          autoComplete="off"
          value={form.authorization}
          aria-invalid={errors.authorization !== undefined}
          onChange={(e) => set("authorization", e.target.value)}
        />
        {fieldError("authorization")}
      </label>
      {mode === "edit" && hasAuthorization === true && (
        <label className="check">
          <input
            type="checkbox"
            name="webhook-clear-authorization"
            checked={form.clearAuthorization}
            onChange={(e) => set("clearAuthorization", e.target.checked)}
          />{" "}
          Remove the Authorization header
        </label>
      )}
      <label className="check">
        <input type="checkbox" name="webhook-enabled" checked={form.enabled} onChange={(e) => set("enabled", e.target.checked)} />{" "}
        Enabled
      </label>
      <p>
        <button type="submit" disabled={busy}>
          {mode === "create" ? "Create webhook" : "Save"}
        </button>{" "}
        <button type="button" className="link" onClick={onCancel}>
          Cancel
        </button>
      </p>
    </form>
  );
}

function durationMs(d: WebhookDelivery["duration"]): number {
  return d === undefined ? 0 : Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

function TestResult({ name, delivery, onDone }: { name: string; delivery: WebhookDelivery; onDone: () => void }) {
  const ok = delivery.outcome === WebhookOutcome.DELIVERED;
  return (
    <div className={ok ? "notice" : "error"} role="status" data-testid="webhook-test-result">
      Test of {name}: <strong>{outcomeLabel(delivery.outcome)}</strong>
      {delivery.statusCode !== 0 ? `, HTTP ${delivery.statusCode}` : ", no HTTP answer"}, {formatDuration(durationMs(delivery.duration))}
      {delivery.error !== "" && ` — ${delivery.error}`}{" "}
      <button type="button" className="link" onClick={onDone}>
        Dismiss
      </button>
    </div>
  );
}

function DeliveryLog({ webhookId, name, changes }: { webhookId: string; name: string; changes: number }) {
  const { role } = useSession();
  const log = useResource(
    (a, signal) => a.webhooks.listWebhookDeliveries({ webhookId, limit: logLimit }, { signal }),
    [webhookId, changes],
  );
  const rows = log.data?.deliveries ?? [];
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries of {name}</h2>
      <ErrorNotice error={log.error} role={role} />
      {log.data !== undefined && rows.length === 0 && (
        <p className="empty">No delivery attempts yet. Test the webhook, or wait for a matching notice.</p>
      )}
      {rows.length > 0 && (
        <table className="deliveries">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>subject</th>
              <th>attempt</th>
              <th>outcome</th>
              <th>status</th>
              <th>took</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id}>
                <td className="mono">{formatDateTime(d.time)}</td>
                <td className="mono">
                  {d.subject}
                  {d.test ? " (test)" : ""}
                </td>
                <td>{d.attempt}</td>
                <td className={d.outcome === WebhookOutcome.DELIVERED ? undefined : "warn"}>{outcomeLabel(d.outcome)}</td>
                <td>{d.statusCode === 0 ? "none" : d.statusCode}</td>
                <td>{formatDuration(durationMs(d.duration))}</td>
                <td>{d.error}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function DeadLetters({
  webhookId,
  name,
  changes,
  nameOf,
}: {
  webhookId: string;
  name: string;
  changes: number;
  nameOf: (id: string) => string;
}) {
  const { api, role } = useSession();
  const isAdmin = role >= Role.ADMIN;
  const [counter, setCounter] = useState(0);
  const letters = useResource(
    (a, signal) => a.webhooks.listWebhookDeadLetters({ webhookId, limit: logLimit }, { signal }),
    [webhookId, changes, counter],
  );
  const [message, setMessage] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const rows = letters.data?.deadLetters ?? [];

  const replay = async (deadLetterId: string, hookId: string): Promise<void> => {
    setError(undefined);
    setMessage("");
    try {
      const res = await api.webhooks.replayWebhookDeadLetters({ webhookId: hookId, deadLetterId });
      setMessage(`${res.queued} notice${res.queued === 1 ? "" : "s"} queued again.`);
      setCounter((c) => c + 1);
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section aria-labelledby="dead-letters-title">
      <h2 id="dead-letters-title">Dead letters{name !== "" ? ` of ${name}` : ""}</h2>
      <p className="hint">
        Notices that could not be delivered: attempts exhausted, destination refused, circuit open or
        queue full. {isAdmin ? "Replay queues them again." : "An admin can replay them."}
      </p>
      {isAdmin && webhookId !== "" && rows.length > 0 && (
        <button type="button" onClick={() => void replay("", webhookId)}>
          Replay all of {name}
        </button>
      )}
      {message !== "" && (
        <p className="notice" role="status">
          {message}
        </p>
      )}
      <ErrorNotice error={error} role={role} />
      <ErrorNotice error={letters.error} role={role} />
      {letters.data !== undefined && rows.length === 0 && <p className="empty">No dead letters.</p>}
      {rows.length > 0 && (
        <table className="dead-letters">
          <thead>
            <tr>
              <th>created (UTC)</th>
              <th>webhook</th>
              <th>notice</th>
              <th>reason</th>
              <th>attempts</th>
              <th>status</th>
              <th>error</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id}>
                <td className="mono">{formatDateTime(d.createdAt)}</td>
                <td>{nameOf(d.webhookId)}</td>
                <td>
                  {d.notice !== undefined ? (
                    <>
                      <span className="mono">{d.notice.subject}</span> {d.notice.summary}
                    </>
                  ) : d.incident !== undefined ? (
                    `incident: ${d.incident.count} notices about ${shortId(d.incident.attackerId)}`
                  ) : (
                    ""
                  )}
                </td>
                <td>{d.reason}</td>
                <td>{d.attempts}</td>
                <td>{d.statusCode === 0 ? "none" : d.statusCode}</td>
                <td>{d.error}</td>
                <td>
                  {isAdmin && (
                    <button type="button" onClick={() => void replay(d.id, d.webhookId)}>
                      Replay
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Suppressions({ hooks, nameOf }: { hooks: Webhook[]; nameOf: (id: string) => string }) {
  const { api, role } = useSession();
  const isAdmin = role >= Role.ADMIN;
  const rules = useResource((a, signal) => a.webhooks.listWebhookSuppressions({}, { signal }), []);
  const [form, setForm] = useState<SuppressionForm>(emptySuppressionForm);
  const [formError, setFormError] = useState("");
  const [callError, setCallError] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState("");
  const set = <K extends keyof SuppressionForm>(k: K, v: SuppressionForm[K]): void => setForm((f) => ({ ...f, [k]: v }));
  const rows = rules.data?.suppressions ?? [];

  const create = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    setCallError(undefined);
    const checked = checkSuppressionForm(form);
    if (!checked.ok) {
      setFormError(checked.error);
      return;
    }
    setFormError("");
    try {
      await api.webhooks.createWebhookSuppression({ suppression: checked.suppression });
      setForm(emptySuppressionForm);
      rules.reload();
    } catch (err) {
      setCallError(err);
    }
  };

  const remove = async (id: string): Promise<void> => {
    setCallError(undefined);
    try {
      await api.webhooks.deleteWebhookSuppression({ id });
      setConfirming("");
      rules.reload();
    } catch (err) {
      setCallError(err);
    }
  };

  return (
    <section aria-labelledby="suppressions-title">
      <h2 id="suppressions-title">Suppression rules</h2>
      <p className="hint">
        A rule drops matching notices before delivery, for example a scanner you run yourself or a
        decky under maintenance. Every criterion a rule sets must match.
      </p>
      {isAdmin && (
        <form className="inline-form" onSubmit={(e) => void create(e)} aria-label="Create suppression rule">
          <label>
            Webhook{" "}
            <select name="suppression-webhook" value={form.webhookId} onChange={(e) => set("webhookId", e.target.value)}>
              <option value="">every webhook</option>
              {hooks.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Source prefix <input name="suppression-prefix" placeholder="198.51.100.0/24" value={form.prefix} onChange={(e) => set("prefix", e.target.value)} />
          </label>
          <label>
            Agent id <input name="suppression-agent" value={form.agentId} onChange={(e) => set("agentId", e.target.value)} />
          </label>
          <label>
            Decky <input name="suppression-decky" value={form.decky} onChange={(e) => set("decky", e.target.value)} />
          </label>
          <label>
            From (UTC){" "}
            <input name="suppression-not-before" type="datetime-local" value={form.notBefore} onChange={(e) => set("notBefore", e.target.value)} />
          </label>
          <label>
            Until (UTC){" "}
            <input name="suppression-not-after" type="datetime-local" value={form.notAfter} onChange={(e) => set("notAfter", e.target.value)} />
          </label>
          <label>
            Reason <input name="suppression-reason" value={form.reason} onChange={(e) => set("reason", e.target.value)} />
          </label>
          <button type="submit">Add rule</button>
        </form>
      )}
      {formError !== "" && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
      <ErrorNotice error={callError} role={role} />
      <ErrorNotice error={rules.error} role={role} />
      {rules.data !== undefined && rows.length === 0 && <p className="empty">No suppression rules: every matching notice is delivered.</p>}
      {rows.length > 0 && (
        <table className="suppressions">
          <thead>
            <tr>
              <th>webhook</th>
              <th>source prefix</th>
              <th>agent</th>
              <th>decky</th>
              <th>from (UTC)</th>
              <th>until (UTC)</th>
              <th>reason</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{r.webhookId === "" ? "every webhook" : nameOf(r.webhookId)}</td>
                <td className="mono">{r.prefix}</td>
                <td className="mono">{r.agentId}</td>
                <td>{r.decky}</td>
                <td className="mono">{formatDateTime(r.notBefore)}</td>
                <td className="mono">{formatDateTime(r.notAfter)}</td>
                <td>{r.reason}</td>
                <td>
                  {isAdmin &&
                    (confirming === r.id ? (
                      <span className="confirm">
                        Delete this rule?{" "}
                        <button type="button" className="danger" onClick={() => void remove(r.id)}>
                          Delete
                        </button>{" "}
                        <button type="button" className="link" onClick={() => setConfirming("")} autoFocus>
                          Cancel
                        </button>
                      </span>
                    ) : (
                      <button type="button" onClick={() => setConfirming(r.id)}>
                        Delete…
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
