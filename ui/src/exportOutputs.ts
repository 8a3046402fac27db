// Labels for the SIEM export outputs ListExportOutputs returns. The
// server never sends an output's token, API key or password, so these
// helpers show only whether one is set.

import { ExportOutputFormat, type ExportOutput } from "./gen/decnet/api/v1/export_service_pb";

function formatLabel(format: ExportOutputFormat): string {
  return format === ExportOutputFormat.CEF ? "cef" : "json";
}

// Names the kind of destination and its body format, such as "syslog/cef".
export function outputKind(o: ExportOutput): string {
  const d = o.destination;
  switch (d.case) {
    case "syslog":
      return `syslog/${formatLabel(d.value.format)}`;
    case "lines":
      return `lines/${formatLabel(d.value.format)}`;
    case "splunk":
      return "splunk";
    case "elastic":
      return "elasticsearch";
    default:
      return "unknown";
  }
}

// Says where the output sends, with TLS and whether a credential is set.
export function outputDestination(o: ExportOutput): string {
  const d = o.destination;
  switch (d.case) {
    case "syslog":
      return d.value.address + (d.value.tls ? " (TLS)" : "");
    case "lines":
      return d.value.path !== "" ? d.value.path : d.value.address + (d.value.tls ? " (TLS)" : "");
    case "splunk":
      return `${d.value.url}${d.value.index !== "" ? `, index ${d.value.index}` : ""} (token ${d.value.tokenSet ? "set" : "unset"})`;
    case "elastic":
      return `${d.value.url}, index ${d.value.index} (auth ${d.value.auth})`;
    default:
      return "";
  }
}

export function outputTopics(o: ExportOutput): string {
  return o.topics.length === 0 ? "all" : o.topics.join(", ");
}

// Reports whether the output looks unhealthy: it lost records, or its
// latest failure came after its latest delivery.
export function outputFailing(o: ExportOutput): boolean {
  const st = o.stats;
  if (st === undefined) {
    return false;
  }
  if (st.dropped > 0n || st.failed > 0n) {
    return true;
  }
  if (st.lastErrorAt === undefined) {
    return false;
  }
  if (st.lastDeliveredAt === undefined) {
    return true;
  }
  const errorAt = st.lastErrorAt.seconds * 1_000_000_000n + BigInt(st.lastErrorAt.nanos);
  const deliveredAt = st.lastDeliveredAt.seconds * 1_000_000_000n + BigInt(st.lastDeliveredAt.nanos);
  return errorAt > deliveredAt;
}
