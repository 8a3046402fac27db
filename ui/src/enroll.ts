// Parsing of the enrollment form.

// CreateTokenRequest accepts at most seven days; the server checks again.
export const maxTokenTtlMinutes = 7 * 24 * 60;

// Same rules as CreateTokenRequest.labels, so the form explains a bad label
// before the server refuses it.
const labelKey = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const labelValue = /^[A-Za-z0-9._-]{0,63}$/;
const maxLabels = 16;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

// Parses "key=value" pairs separated by commas or new lines.
export function parseLabels(text: string): Parsed<Record<string, string>> {
  const labels: Record<string, string> = {};
  const items = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length > maxLabels) {
    return { ok: false, error: `At most ${maxLabels} labels.` };
  }
  for (const item of items) {
    const eq = item.indexOf("=");
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? "" : item.slice(eq + 1).trim();
    if (!labelKey.test(key)) {
      return {
        ok: false,
        error: `Label key "${key}": use 1 to 63 of a-z, 0-9, ".", "_", "-", starting with a letter or digit.`,
      };
    }
    if (!labelValue.test(value)) {
      return { ok: false, error: `Label "${key}": the value may have up to 63 letters, digits, ".", "_" or "-".` };
    }
    if (key in labels) {
      return { ok: false, error: `Label key "${key}" appears twice.` };
    }
    labels[key] = value;
  }
  return { ok: true, value: labels };
}

// Parses a whole number of minutes between 1 and maxTokenTtlMinutes.
export function parseTtlMinutes(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) {
    return { ok: false, error: "Lifetime must be a whole number of minutes." };
  }
  const minutes = Number(trimmed);
  if (minutes < 1 || minutes > maxTokenTtlMinutes) {
    return { ok: false, error: `Lifetime must be between 1 and ${maxTokenTtlMinutes} minutes (7 days).` };
  }
  return { ok: true, value: minutes };
}
