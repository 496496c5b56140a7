/** An error as a sentence a person can act on (see error-messages.ts). */
import { describeError } from "../error-messages.js";

export function ErrorNotice({ error }: { readonly error: unknown }) {
  if (error === null || error === undefined) {
    return null;
  }
  const { title, detail } = describeError(error);
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title}.</strong> {detail}
    </div>
  );
}
