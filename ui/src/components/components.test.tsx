// Components are rendered to static markup, which shows the text each role
// gets without a browser environment.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { Role } from "../gen/decnet/api/v1/access_pb";
import { CredentialSchema } from "../gen/decnet/api/v1/credential_service_pb";
import { AuthAttemptSchema } from "../gen/decnet/event/v1/event_pb";
import { CredentialSecret } from "./CredentialTable";
import { ErrorNotice, PermissionNotice } from "./ErrorNotice";
import { SingleSignOnLink } from "./LoginForm";
import { SecretValue } from "./SecretValue";

const secret = new TextEncoder().encode("Winter2026!");

describe("secret display", () => {
  it("tells a viewer the credential secret is hidden for the role", () => {
    const html = renderToStaticMarkup(
      <CredentialSecret credential={create(CredentialSchema, { secretKind: "plaintext", secretMasked: true })} />,
    );
    expect(html).toContain("hidden for your role");
    expect(html).not.toContain("show secret");
  });

  it("offers an unmasked credential secret behind a button", () => {
    const html = renderToStaticMarkup(
      <CredentialSecret credential={create(CredentialSchema, { secretKind: "plaintext", secret })} />,
    );
    expect(html).toContain("show secret");
    expect(html).not.toContain("Winter2026!");
  });

  it("masks an event secret for a role that may not see it", () => {
    const attempt = create(AuthAttemptSchema, { secretKind: "plaintext", secret });
    const masked = renderToStaticMarkup(<SecretValue attempt={attempt} masked />);
    expect(masked).toContain("hidden for your role");
    expect(masked).not.toContain("Winter2026!");
    expect(renderToStaticMarkup(<SecretValue attempt={attempt} masked={false} />)).toContain("show secret");
  });
});

describe("permission notices", () => {
  it("explains a permission_denied answer with the caller's role", () => {
    const html = renderToStaticMarkup(
      <ErrorNotice error={new ConnectError("admin only", Code.PermissionDenied)} role={Role.VIEWER} />,
    );
    expect(html).toContain("Not allowed for your role.");
    expect(html).toContain("a viewer");
    expect(html).toContain("the server refused this request");
  });

  it("names the role a page needs", () => {
    const html = renderToStaticMarkup(<PermissionNotice role={Role.ANALYST} needed={Role.ADMIN} />);
    expect(html).toContain("an analyst");
    expect(html).toContain("this needs the admin role");
  });

  it("shows other errors by code and message", () => {
    const html = renderToStaticMarkup(
      <ErrorNotice error={new ConnectError("down", Code.Unavailable)} role={Role.ADMIN} />,
    );
    expect(html).toContain("unavailable: down");
    expect(html).not.toContain("Not allowed");
  });

  it("renders nothing without an error", () => {
    expect(renderToStaticMarkup(<ErrorNotice error={undefined} role={Role.ADMIN} />)).toBe("");
  });
});

describe("single sign-on link", () => {
  it("links to the local path the server names", () => {
    const html = renderToStaticMarkup(<SingleSignOnLink path="/auth/oidc/login" />);
    expect(html).toContain('href="/auth/oidc/login"');
    expect(html).toContain("Sign in with single sign-on");
  });

  it("shows nothing when single sign-on is off or the path leaves the site", () => {
    for (const path of ["", "//idp.example/login", "https://idp.example/login", "/\\idp.example"]) {
      expect(renderToStaticMarkup(<SingleSignOnLink path={path} />)).toBe("");
    }
  });
});
