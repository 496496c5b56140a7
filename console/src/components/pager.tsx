/** Pagination over the API's page tokens: the tokens of the pages visited, so Previous needs no reverse token. */
import { useState } from "react";

export interface Pager {
  /** token is the page token of the page in view ("" for the first). */
  readonly token: string;
  readonly page: number;
  next(token: string): void;
  previous(): void;
}

/** usePager keeps one token stack per filter: a new `filterKey` starts again at the first page. */
export function usePager(filterKey: string): Pager {
  const [state, setState] = useState({ filterKey, tokens: [""] });
  const tokens = state.filterKey === filterKey ? state.tokens : [""];
  if (state.filterKey !== filterKey) {
    setState({ filterKey, tokens });
  }
  return {
    token: tokens.at(-1) ?? "",
    page: tokens.length,
    next: (token) => setState({ filterKey, tokens: [...tokens, token] }),
    previous: () => setState({ filterKey, tokens: tokens.length > 1 ? tokens.slice(0, -1) : tokens }),
  };
}

export function PagerControls({
  pager,
  nextPageToken,
  label,
}: {
  readonly pager: Pager;
  readonly nextPageToken: string | undefined;
  readonly label: string;
}) {
  if (pager.page === 1 && !nextPageToken) {
    return null;
  }
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button" disabled={pager.page === 1} onClick={pager.previous}>
        Previous
      </button>
      <span>Page {pager.page}</span>
      <button
        type="button"
        className="button"
        disabled={!nextPageToken}
        onClick={() => nextPageToken && pager.next(nextPageToken)}
      >
        Next
      </button>
    </nav>
  );
}
