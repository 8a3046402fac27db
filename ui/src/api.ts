// Connect clients for the control-plane API.
//
// The dashboard authenticates with the decnet_session cookie that Login sets
// (HttpOnly, SameSite=Strict). The browser attaches it to every same-origin
// request, so the token that Login also returns is never read or stored:
// script access to it would only widen what a cross-site scripting bug
// could steal.

import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import { AgentService } from "./gen/decnet/api/v1/agent_service_pb";
import { AnnotationService } from "./gen/decnet/api/v1/annotation_service_pb";
import { ApiTokenService } from "./gen/decnet/api/v1/api_token_service_pb";
import { AttackerService } from "./gen/decnet/api/v1/attacker_service_pb";
import { AuditService } from "./gen/decnet/api/v1/audit_service_pb";
import { AuthService } from "./gen/decnet/api/v1/auth_pb";
import { CampaignService } from "./gen/decnet/api/v1/campaign_service_pb";
import { CredentialService } from "./gen/decnet/api/v1/credential_service_pb";
import { EventService } from "./gen/decnet/api/v1/event_service_pb";
import { ExportService } from "./gen/decnet/api/v1/export_service_pb";
import { IdentityService } from "./gen/decnet/api/v1/identity_service_pb";
import { IntelService } from "./gen/decnet/api/v1/intel_service_pb";
import { NoticeService } from "./gen/decnet/api/v1/notice_service_pb";
import { SessionService } from "./gen/decnet/api/v1/session_service_pb";
import { SettingsService } from "./gen/decnet/api/v1/settings_service_pb";
import { TokenService } from "./gen/decnet/api/v1/token_service_pb";
import { UserService } from "./gen/decnet/api/v1/user_service_pb";
import { WebhookService } from "./gen/decnet/api/v1/webhook_service_pb";

export interface Api {
  auth: Client<typeof AuthService>;
  users: Client<typeof UserService>;
  events: Client<typeof EventService>;
  attackers: Client<typeof AttackerService>;
  identities: Client<typeof IdentityService>;
  campaigns: Client<typeof CampaignService>;
  credentials: Client<typeof CredentialService>;
  agents: Client<typeof AgentService>;
  tokens: Client<typeof TokenService>;
  sessions: Client<typeof SessionService>;
  audit: Client<typeof AuditService>;
  apiTokens: Client<typeof ApiTokenService>;
  webhooks: Client<typeof WebhookService>;
  intel: Client<typeof IntelService>;
  annotations: Client<typeof AnnotationService>;
  notices: Client<typeof NoticeService>;
  settings: Client<typeof SettingsService>;
  exports: Client<typeof ExportService>;
}

// Sends every request with the session cookie. The API shares the page's
// origin, so "same-origin" is enough and the cookie never goes elsewhere.
const fetchWithCookie: typeof globalThis.fetch = (input, init) =>
  globalThis.fetch(input, { ...init, credentials: "same-origin" });

export function createApi(baseUrl: string): Api {
  const transport = createConnectTransport({ baseUrl, fetch: fetchWithCookie });
  return {
    auth: createClient(AuthService, transport),
    users: createClient(UserService, transport),
    events: createClient(EventService, transport),
    attackers: createClient(AttackerService, transport),
    identities: createClient(IdentityService, transport),
    campaigns: createClient(CampaignService, transport),
    credentials: createClient(CredentialService, transport),
    agents: createClient(AgentService, transport),
    tokens: createClient(TokenService, transport),
    sessions: createClient(SessionService, transport),
    audit: createClient(AuditService, transport),
    apiTokens: createClient(ApiTokenService, transport),
    webhooks: createClient(WebhookService, transport),
    intel: createClient(IntelService, transport),
    annotations: createClient(AnnotationService, transport),
    notices: createClient(NoticeService, transport),
    settings: createClient(SettingsService, transport),
    exports: createClient(ExportService, transport),
  };
}

// Reports whether err means the session is missing or expired, so the user
// has to log in again.
export function isUnauthenticated(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Unauthenticated;
}

// Reports whether err means the caller's role is below the one the
// procedure needs.
export function isPermissionDenied(err: unknown): boolean {
  return ConnectError.from(err).code === Code.PermissionDenied;
}

// Reports whether err comes from a call that the dashboard cancelled itself.
export function isCanceled(err: unknown): boolean {
  if (err instanceof DOMException && err.name === "AbortError") {
    return true;
  }
  return ConnectError.from(err).code === Code.Canceled;
}

// Describes err for the status line: the Connect code and the server's
// message, for example "unavailable: connection refused".
export function describeError(err: unknown): string {
  const connectErr = ConnectError.from(err);
  const code = Code[connectErr.code] ?? "unknown";
  const name = code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return connectErr.rawMessage === "" ? name : `${name}: ${connectErr.rawMessage}`;
}
