import { type RefObject, useEffect } from "react";

/** useFocusInvalid moves focus to the first invalid field after a failed submit, so the error is read out. */
export function useFocusInvalid(container: RefObject<HTMLElement | null>, errors: object): void {
  useEffect(() => {
    if (Object.keys(errors).length > 0) {
      container.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus();
    }
  }, [container, errors]);
}
