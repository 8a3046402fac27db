import { useState, type FormEvent } from "react";

import { ErrorNotice } from "../components/ErrorNotice";
import { outputDestination, outputFailing, outputKind, outputTopics } from "../exportOutputs";
import { formatDateTime } from "../format";
import type { ExportOutput } from "../gen/decnet/api/v1/export_service_pb";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { Settings } from "../gen/decnet/api/v1/settings_service_pb";
import {
  formFromSettings,
  restoreRequest,
  runtimeSettingLabel,
  updateRequest,
  validateForm,
  type FormErrors,
  type RuntimeForm,
} from "../runtimeSettings";
import { useResource, useSession } from "../session";
import { settingGroups } from "../settings";
import "../topology.css";

export function SettingsPage() {
  const { role } = useSession();
  const settings = useResource((api, signal) => api.settings.getSettings({}, { signal }), []);
  const groups = settings.data?.settings === undefined ? [] : settingGroups(settings.data.settings);

  return (
    <>
      <h1 tabIndex={-1}>Settings</h1>
      <p className="hint">
        The configuration of the control plane process that answered this page. It comes from the flags of{" "}
        <code>decnet server</code> or their environment variables (<code>DECNET_</code> and the flag name in
        capitals, such as <code>DECNET_RETENTION</code> for <code>--retention</code>), and SIEM outputs from
        the <code>--export-config</code> file. To change most settings, change the flag, variable or file and
        restart the server. <code>decnet dev</code> chooses these values itself. Admins can change the
        runtime settings below without a restart; their values replace the flags on every replica within
        seconds.
      </p>
      <p className="hint">
        Secrets are never shown: the database and Redis URLs, the OIDC client secret, provider keys and
        export credentials stay on the server.
      </p>
      <ErrorNotice error={settings.error} role={role} />
      {role >= Role.ADMIN && settings.data?.settings !== undefined && (
        <RuntimeSettingsSection settings={settings.data.settings} onSaved={settings.reload} />
      )}
      {groups.map((group) => {
        const headingId = `settings-${group.title.toLowerCase().replaceAll(" ", "-")}`;
        return (
          <section key={group.title} className="settings-group" aria-labelledby={headingId}>
            <h2 id={headingId}>{group.title}</h2>
            <dl className="facts">
              {group.rows.map((row) => (
                <div key={row.label} className="settings-row" data-testid={`setting-${row.label}`}>
                  <dt>{row.label}</dt>
                  <dd className="mono">{row.value}</dd>
                  <dd className="flag">{row.source === "" ? "" : `set by ${row.source}`}</dd>
                </div>
              ))}
            </dl>
          </section>
        );
      })}
      <ExportOutputsSection />
    </>
  );
}

// Lets admins change the settings that apply without a restart.
function RuntimeSettingsSection(p: { settings: Settings; onSaved: () => void }) {
  const { api, role } = useSession();
  const [busy, setBusy] = useState(false);
  const [callError, setCallError] = useState<unknown>(undefined);
  const [saved, setSaved] = useState("");

  const save = (build: () => ReturnType<typeof updateRequest>): void => {
    const req = build();
    if (req === undefined) {
      setSaved("Nothing changed.");
      return;
    }
    setBusy(true);
    setCallError(undefined);
    setSaved("");
    void (async () => {
      try {
        await api.settings.updateSettings(req);
        setSaved("Saved.");
        p.onSaved();
      } catch (err) {
        setCallError(err);
      } finally {
        setBusy(false);
      }
    })();
  };

  const overridden = p.settings.overridden;
  return (
    <section className="settings-group" aria-labelledby="settings-runtime">
      <h2 id="settings-runtime">Runtime settings</h2>
      <ErrorNotice error={callError} role={role} />
      {saved !== "" && (
        <p className="notice" role="status">
          {saved}
        </p>
      )}
      <RuntimeSettingsForm
        key={JSON.stringify(formFromSettings(p.settings))}
        initial={formFromSettings(p.settings)}
        busy={busy}
        onSubmit={(initial, form) => save(() => updateRequest(initial, form))}
      />
      {overridden.length > 0 && (
        <p className="hint">
          Changed by an admin: {overridden.map(runtimeSettingLabel).join(", ")}.{" "}
          <button type="button" className="link" disabled={busy} onClick={() => save(() => restoreRequest(overridden))}>
            Use the flag values again
          </button>
        </p>
      )}
    </section>
  );
}

export function RuntimeSettingsForm(p: {
  initial: RuntimeForm;
  busy: boolean;
  onSubmit: (initial: RuntimeForm, form: RuntimeForm) => void;
}) {
  const [form, setForm] = useState<RuntimeForm>(p.initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const set = <K extends keyof RuntimeForm>(k: K, v: RuntimeForm[K]) => setForm((f) => ({ ...f, [k]: v }));

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const found = validateForm(form);
    setErrors(found);
    if (Object.keys(found).length === 0) {
      p.onSubmit(p.initial, form);
    }
  };
  const fieldError = (k: keyof RuntimeForm) =>
    errors[k] !== undefined && (
      <span className="error" role="alert" id={`runtime-${k}-error`}>
        {errors[k]}
      </span>
    );

  return (
    <form className="stack-form" onSubmit={submit} aria-label="Runtime settings" noValidate>
      <label>
        Event retention (0 keeps events forever; otherwise at least 1h, such as 720h or 30d)
        <input
          name="runtime-retention"
          value={form.retention}
          aria-invalid={errors.retention !== undefined}
          onChange={(e) => set("retention", e.target.value)}
        />
        {fieldError("retention")}
      </label>
      <label>
        <input
          type="checkbox"
          name="runtime-require-admin-totp"
          checked={form.requireAdminTotp}
          onChange={(e) => set("requireAdminTotp", e.target.checked)}
        />{" "}
        Admins must use TOTP (applies at their next sign-in)
      </label>
      <label>
        Live streams per user (1 to 100)
        <input
          name="runtime-streams-per-user"
          inputMode="numeric"
          value={form.streamsPerUser}
          aria-invalid={errors.streamsPerUser !== undefined}
          onChange={(e) => set("streamsPerUser", e.target.value)}
        />
        {fieldError("streamsPerUser")}
      </label>
      <label>
        <input
          type="checkbox"
          name="runtime-webhook-allow-http"
          checked={form.webhookAllowHttp}
          onChange={(e) => set("webhookAllowHttp", e.target.checked)}
        />{" "}
        Accept http:// webhook URLs
      </label>
      <label>
        Private networks webhooks may reach (one CIDR per line, at most 32, such as 10.20.0.0/16)
        <textarea
          name="runtime-webhook-cidrs"
          rows={3}
          value={form.webhookCidrs}
          aria-invalid={errors.webhookCidrs !== undefined}
          onChange={(e) => set("webhookCidrs", e.target.value)}
        />
        {fieldError("webhookCidrs")}
      </label>
      <button type="submit" disabled={p.busy}>
        Save
      </button>
    </form>
  );
}

interface TestOutcome {
  name: string;
  delivered: boolean;
  error: string;
}

// Lists the SIEM outputs with their state and lets admins send a test
// record to one.
function ExportOutputsSection() {
  const { api, role } = useSession();
  const outputs = useResource((a, signal) => a.exports.listExportOutputs({}, { signal }), []);
  const [outcome, setOutcome] = useState<TestOutcome | undefined>(undefined);
  const [callError, setCallError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const test = (name: string): void => {
    setOutcome(undefined);
    setCallError(undefined);
    setBusy(true);
    void (async () => {
      try {
        const res = await api.exports.testExportOutput({ name });
        setOutcome({ name, delivered: res.delivered, error: res.error });
      } catch (err) {
        setCallError(err);
      } finally {
        setBusy(false);
        outputs.reload();
      }
    })();
  };

  return (
    <section className="settings-group" aria-labelledby="settings-export-outputs">
      <h2 id="settings-export-outputs">SIEM export outputs</h2>
      <p className="hint">
        State since this server process started. Outputs with suppression on leave out what the webhook
        suppression rules for every webhook drop. A test sends one <code>export.test</code> record past the
        output's topics and is not counted.{" "}
        <button type="button" className="link" onClick={outputs.reload}>
          Refresh
        </button>
      </p>
      <ErrorNotice error={outputs.error ?? callError} role={role} />
      {outcome !== undefined && (
        <div className={outcome.delivered ? "notice" : "error"} role="status" data-testid="export-test-result">
          Test of {outcome.name}:{" "}
          <strong>{outcome.delivered ? "accepted" : "not accepted"}</strong>
          {outcome.error !== "" && ` — ${outcome.error}`}{" "}
          <button type="button" className="link" onClick={() => setOutcome(undefined)}>
            Dismiss
          </button>
        </div>
      )}
      {outputs.data !== undefined && (
        <ExportOutputsTable outputs={outputs.data.outputs} canTest={role >= Role.ADMIN} busy={busy} onTest={test} />
      )}
    </section>
  );
}

export function ExportOutputsTable(p: {
  outputs: readonly ExportOutput[];
  canTest: boolean;
  busy: boolean;
  onTest: (name: string) => void;
}) {
  if (p.outputs.length === 0) {
    return (
      <p className="empty">
        No outputs: start <code>decnet server</code> with <code>--export-config</code> to send events to a SIEM.
      </p>
    );
  }
  return (
    <table className="export-outputs">
      <thead>
        <tr>
          <th>name</th>
          <th>kind</th>
          <th>destination</th>
          <th>topics</th>
          <th>suppression</th>
          <th>delivered</th>
          <th>dropped</th>
          <th>failed</th>
          <th>suppressed</th>
          <th>queued</th>
          <th>last delivered</th>
          <th>last error</th>
          {p.canTest && <th />}
        </tr>
      </thead>
      <tbody>
        {p.outputs.map((o) => {
          const st = o.stats;
          return (
            <tr key={o.name} data-testid={`export-output-${o.name}`} className={outputFailing(o) ? "warn" : undefined}>
              <td>{o.name}</td>
              <td>{outputKind(o)}</td>
              <td className="mono">{outputDestination(o)}</td>
              <td className="mono">{outputTopics(o)}</td>
              <td>{o.applySuppression ? "on" : "off"}</td>
              <td className="num">{(st?.delivered ?? 0n).toString()}</td>
              <td className="num">{(st?.dropped ?? 0n).toString()}</td>
              <td className="num">{(st?.failed ?? 0n).toString()}</td>
              <td className="num">{(st?.suppressed ?? 0n).toString()}</td>
              <td className="num">{st?.queued ?? 0}</td>
              <td>{formatDateTime(st?.lastDeliveredAt) || "never"}</td>
              <td>
                {st === undefined || st.lastError === "" ? (
                  "none"
                ) : (
                  <>
                    {formatDateTime(st.lastErrorAt)} <span className="mono">{st.lastError}</span>
                  </>
                )}
              </td>
              {p.canTest && (
                <td className="actions">
                  <button type="button" disabled={p.busy} onClick={() => p.onTest(o.name)}>
                    Test
                  </button>
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
