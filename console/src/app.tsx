/** The console's frame: sign in, or the signed-in layout with navigation, tenant switcher and pages. */
import { useInfiniteQuery, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { CallerRole, KeyAdminService } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";
import { ErrorNotice } from "./components/error-notice.js";
import { type ConsoleContext, ConsoleContextValue, useConsole } from "./console-context.js";
import { roleLabel } from "./format.js";
import { AuditPage } from "./pages/audit-page.js";
import { GroupsPage } from "./pages/groups-page.js";
import { KeyDetailPage } from "./pages/key-detail-page.js";
import { KeysPage } from "./pages/keys-page.js";
import { SignInPage } from "./pages/sign-in-page.js";
import { TenantPage } from "./pages/tenant-page.js";
import { Link, navigate, useFocusHeading, useRoute } from "./router.js";
import { forgetKey, signedInKey } from "./session.js";

let onUnauthenticated: () => void = () => undefined;

/** reportUnauthenticated is called by the query cache when a call answers UNAUTHENTICATED. */
export function reportUnauthenticated(): void {
  onUnauthenticated();
}

const TENANT_STORAGE_KEY = "apikeys.console.tenant";

export function App() {
  const queryClient = useQueryClient();
  const [signedIn, setSignedIn] = useState(() => signedInKey() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useCallback(
    (message: string | null) => {
      forgetKey();
      queryClient.clear();
      setSignedIn(false);
      setNotice(message);
    },
    [queryClient],
  );
  useEffect(() => {
    onUnauthenticated = () =>
      signOut("Your key is no longer accepted (revoked, expired, or not allowed from here). Sign in again.");
    return () => {
      onUnauthenticated = () => undefined;
    };
  }, [signOut]);
  if (!signedIn) {
    return (
      <SignInPage
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }
  const signOutByChoice = () => {
    // The next key may see other pages: start again from the keys.
    navigate("/");
    signOut("You signed out. The key was forgotten.");
  };
  return <SignedIn onSignOut={signOutByChoice} />;
}

function SignedIn({ onSignOut }: { readonly onSignOut: () => void }) {
  const caller = useQuery(KeyAdminService.method.getCaller, {});
  const [chosenTenant, setChosenTenant] = useState(() => sessionStorage.getItem(TENANT_STORAGE_KEY) ?? "");
  const switchTenant = useCallback((tenantId: string) => {
    sessionStorage.setItem(TENANT_STORAGE_KEY, tenantId);
    setChosenTenant(tenantId);
  }, []);
  const context = useMemo<ConsoleContext | null>(() => {
    const data = caller.data;
    if (data === undefined) {
      return null;
    }
    const isSuperuser = data.role === CallerRole.SUPERUSER;
    return {
      caller: data,
      tenantId: isSuperuser ? chosenTenant || data.tenantId : data.tenantId,
      isSuperuser,
      isAdmin: isSuperuser || data.role === CallerRole.TENANT_ADMIN,
      switchTenant,
    };
  }, [caller.data, chosenTenant, switchTenant]);
  if (context === null) {
    return (
      <main className="page">
        {caller.error ? <ErrorNotice error={caller.error} /> : <p aria-busy="true">Loading…</p>}
      </main>
    );
  }
  return (
    <ConsoleContextValue.Provider value={context}>
      <Layout onSignOut={onSignOut} />
    </ConsoleContextValue.Provider>
  );
}

function Layout({ onSignOut }: { readonly onSignOut: () => void }) {
  const route = useRoute();
  useFocusHeading(route);
  const { caller, tenantId, isAdmin, isSuperuser, switchTenant } = useConsole();
  const links: [string, string][] = [["/", "API Keys"]];
  if (isAdmin) {
    links.push(["/groups", "Groups"]);
  }
  if (isSuperuser) {
    links.push(["/tenant", "Tenant settings"]);
  }
  if (isAdmin) {
    links.push(["/audit", "Live audit"]);
  }
  const active = (to: string) =>
    to === "/" ? route === "/" || route.startsWith("/keys") : route.startsWith(to);
  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">apikeys console</span>
        <nav aria-label="Main">
          <ul>
            {links.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={active(to) ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {isSuperuser ? <TenantSwitcher tenantId={tenantId} onSwitch={switchTenant} /> : null}
        <p className="whoami">
          <span className="badge">{roleLabel(caller.role)}</span> <span>{caller.tenantId}</span>
          {caller.userId === "" ? null : <span> · {caller.userId}</span>} · <code>{caller.keyId}</code>
        </p>
        <button type="button" className="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="content" className="page">
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { readonly route: string }) {
  const { isAdmin, isSuperuser } = useConsole();
  if (route === "/" || route === "/keys") {
    return <KeysPage />;
  }
  if (route.startsWith("/keys/")) {
    return <KeyDetailPage keyId={decodeURIComponent(route.slice("/keys/".length))} />;
  }
  if (route === "/groups" && isAdmin) {
    return <GroupsPage />;
  }
  if (route === "/tenant" && isSuperuser) {
    return <TenantPage />;
  }
  if (route === "/audit" && isAdmin) {
    return <AuditPage />;
  }
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is no such page for this key. <Link to="/">Back to the API keys</Link>
      </p>
    </>
  );
}

/** Tenants are listed a page of TENANT_PAGE_SIZE at a time; "More tenants" appends the next page. */
const TENANT_PAGE_SIZE = 100;

function TenantSwitcher({
  tenantId,
  onSwitch,
}: {
  readonly tenantId: string;
  readonly onSwitch: (tenantId: string) => void;
}) {
  const listing = useInfiniteQuery(
    KeyAdminService.method.listTenants,
    { pageSize: TENANT_PAGE_SIZE, pageToken: "" },
    { pageParamKey: "pageToken", getNextPageParam: (page) => page.nextPageToken || undefined },
  );
  const tenants = listing.data?.pages.flatMap((page) => page.tenants) ?? [];
  // The tenant in view stays selectable even before its page is loaded.
  const known = tenants.some((tenant) => tenant.tenantId === tenantId);
  return (
    <div className="tenant-switcher">
      <label htmlFor="tenant-switcher">Tenant</label>
      <select
        id="tenant-switcher"
        value={tenantId}
        onChange={(event) => onSwitch(event.target.value)}
        aria-busy={listing.isPending}
      >
        {known ? null : <option value={tenantId}>{tenantId}</option>}
        {tenants.map((tenant) => (
          <option key={tenant.tenantId} value={tenant.tenantId}>
            {tenant.displayName === "" ? tenant.tenantId : `${tenant.displayName} (${tenant.tenantId})`}
          </option>
        ))}
      </select>
      {listing.hasNextPage ? (
        <button
          type="button"
          className="button"
          disabled={listing.isFetchingNextPage}
          onClick={() => void listing.fetchNextPage()}
        >
          More tenants
        </button>
      ) : null}
      {listing.error ? <span role="alert">Tenants could not be listed.</span> : null}
    </div>
  );
}
