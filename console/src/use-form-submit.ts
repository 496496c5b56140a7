/**
 * The submit of a dialog form: parse in the browser (errors stay on the fields), send, and show what the
 * server refused on the field it names, or as a general failure; focus moves to the first invalid field.
 */
import { type FormEvent, useRef, useState } from "react";
import { formErrorsOf } from "./error-messages.js";
import { useFocusInvalid } from "./use-focus-invalid.js";

/** Parsed is a form's parse result: the request, or an error per form field. */
export type Parsed<Value, Field extends string> =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: false; readonly errors: Partial<Record<Field, string>> };

export function useFormSubmit<Value, Field extends string>(options: {
  readonly parse: () => Parsed<Value, Field>;
  readonly send: (value: Value) => Promise<void>;
  /** fieldOf names the form field of a request field the server refused, or null. */
  readonly fieldOf: (requestField: string) => Field | null;
}) {
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useFocusInvalid(form, errors);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const parsed = options.parse();
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await options.send(parsed.value);
    } catch (error) {
      const fieldErrors = formErrorsOf(error, options.fieldOf);
      if (fieldErrors !== null) {
        setErrors(fieldErrors);
      } else {
        setFailure(error);
      }
    } finally {
      setBusy(false);
    }
  };
  return { form, errors, failure, busy, submit };
}
