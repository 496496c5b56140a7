/** Status and expiration badges, colour plus words (never colour alone). */
import { ExpirationState, KeyStatus } from "../../../src/gen/apikeys/v1/key_pb.js";
import { expirationLabel, statusLabel } from "../format.js";

const STATUS_TONES: Readonly<Partial<Record<KeyStatus, string>>> = {
  [KeyStatus.UNSPECIFIED]: "",
  [KeyStatus.ACTIVE]: "badge-good",
  [KeyStatus.EXPIRED]: "badge-warn",
  [KeyStatus.REVOKED]: "badge-bad",
  [KeyStatus.DISABLED]: "badge-warn",
};

const EXPIRATION_TONES: Readonly<Partial<Record<ExpirationState, string>>> = {
  [ExpirationState.UNSPECIFIED]: "",
  [ExpirationState.VALID]: "badge-good",
  [ExpirationState.EXPIRING_SOON]: "badge-warn",
  [ExpirationState.EXPIRED]: "badge-bad",
};

export function StatusBadge({ status }: { readonly status: KeyStatus }) {
  return <span className={`badge ${STATUS_TONES[status] ?? ""}`}>{statusLabel(status)}</span>;
}

export function ExpirationBadge({ state }: { readonly state: ExpirationState }) {
  return <span className={`badge ${EXPIRATION_TONES[state] ?? ""}`}>{expirationLabel(state)}</span>;
}
