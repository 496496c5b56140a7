/** What every page needs to know about the signed-in caller and the tenant in view. */
import { createContext, useContext } from "react";
import type { GetCallerResponse } from "../../src/gen/apikeys/v1/key_admin_service_pb.js";

export interface ConsoleContext {
  readonly caller: GetCallerResponse;
  /** tenantId is the tenant in view: the caller's own, or the one a super user switched to. */
  readonly tenantId: string;
  /** isAdmin: the caller may change things (super user or tenant admin); otherwise read-only. */
  readonly isAdmin: boolean;
  readonly isSuperuser: boolean;
  /** switchTenant puts another tenant in view (super users). */
  readonly switchTenant: (tenantId: string) => void;
}

export const ConsoleContextValue = createContext<ConsoleContext | null>(null);

/** useConsole is the signed-in caller and tenant in view. */
export function useConsole(): ConsoleContext {
  const value = useContext(ConsoleContextValue);
  if (value === null) {
    throw new Error("useConsole outside the signed-in console");
  }
  return value;
}
