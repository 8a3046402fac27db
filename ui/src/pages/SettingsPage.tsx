import { ErrorNotice } from "../components/ErrorNotice";
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
        Read-only: the configuration of the control plane process that answered this page. It comes from
        the flags of <code>decnet server</code> or their environment variables (<code>DECNET_</code> and the
        flag name in capitals, such as <code>DECNET_RETENTION</code> for <code>--retention</code>), and SIEM
        outputs from the <code>--export-config</code> file. To change a setting, change the flag, variable or
        file and restart the server. <code>decnet dev</code> chooses these values itself.
      </p>
      <p className="hint">
        Secrets are never shown: the database and Redis URLs, the OIDC client secret, provider keys and
        export credentials stay on the server.
      </p>
      <ErrorNotice error={settings.error} role={role} />
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
    </>
  );
}
