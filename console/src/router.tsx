/** A tiny history router under /console/: the service answers every unknown /console/* path with the app. */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useSyncExternalStore } from "react";

const BASE = "/console";
const NAVIGATED = "console:navigate";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

function currentPath(): string {
  const path = window.location.pathname;
  const inside = path.startsWith(`${BASE}/`) ? path.slice(BASE.length) : "/";
  return inside === "" ? "/" : inside;
}

/** useRoute is the path inside the console ("/", "/keys/ak_…", "/groups"). */
export function useRoute(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

/** navigate goes to a console path without reloading. */
export function navigate(to: string): void {
  window.history.pushState(null, "", `${BASE}${to}`);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** keyPath is the detail page of a key. */
export function keyPath(keyId: string): string {
  return `/keys/${encodeURIComponent(keyId)}`;
}

/** Link is an anchor that navigates inside the console (modified clicks open a tab as usual). */
export function Link({
  to,
  ...rest
}: { readonly to: string } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href">) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(to);
  };
  return <a href={`${BASE}${to}`} onClick={onClick} {...rest} />;
}

/** useFocusHeading moves focus to the page's heading after a navigation, so screen readers announce it. */
export function useFocusHeading(route: string): void {
  // biome-ignore lint/correctness/useExhaustiveDependencies: the focus moves on every route change.
  useEffect(() => {
    const heading = document.querySelector<HTMLElement>("main h1");
    heading?.focus({ preventScroll: true });
  }, [route]);
}
