/** An error as a sentence a person can act on (see error-messages.ts); a conflict offers to reload. */
import { useQueryClient } from "@tanstack/react-query";
import { describeError, isConflict } from "../error-messages.js";

export function ErrorNotice({ error }: { readonly error: unknown }) {
  const queryClient = useQueryClient();
  if (error === null || error === undefined) {
    return null;
  }
  const { title, detail } = describeError(error);
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title}.</strong> {detail}
      {isConflict(error) ? (
        <>
          {" "}
          <button type="button" className="button" onClick={() => void queryClient.invalidateQueries()}>
            Reload
          </button>
        </>
      ) : null}
    </div>
  );
}
