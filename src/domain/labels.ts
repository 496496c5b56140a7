/** Labels: bounded free string metadata on keys and groups, stored and returned in sorted order. */
import type { Labels } from "./api-key.js";
import { invalidArgument } from "./errors.js";
import { validateSingleLineText } from "./validation.js";

export const LABEL_KEY_PATTERN = /^[a-z0-9](?:[a-z0-9_.-]{0,61}[a-z0-9])?$/;
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_BYTES = 256;
export const MAX_LABELS_TOTAL_BYTES = 4096;

/** NO_LABELS is the shared empty label set. */
export const NO_LABELS: Labels = Object.freeze({});

export function validateLabelKey(value: string, field: string): string {
  if (typeof value !== "string" || !LABEL_KEY_PATTERN.test(value)) {
    throw invalidArgument(
      field,
      `${JSON.stringify(String(value).slice(0, 70))} is not a label key: 1-63 characters of lowercase letters, digits, '_', '.' and '-', starting and ending with a letter or digit`,
    );
  }
  return value;
}

/** validateLabels checks a label map (`field` names it, entries as `field[key]`) and returns it sorted. */
export function validateLabels(values: Readonly<Record<string, string>>, field: string): Labels {
  const entries = Object.entries(values);
  if (entries.length === 0) {
    return NO_LABELS;
  }
  if (entries.length > MAX_LABELS) {
    throw invalidArgument(field, `must have at most ${MAX_LABELS} entries, got ${entries.length}`);
  }
  let total = 0;
  const labels: Record<string, string> = {};
  for (const [key, value] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    validateLabelKey(key, field);
    const text = validateSingleLineText(value, `${field}[${key}]`, MAX_LABEL_VALUE_BYTES);
    total += key.length + Buffer.byteLength(text, "utf8");
    labels[key] = text;
  }
  if (total > MAX_LABELS_TOTAL_BYTES) {
    throw invalidArgument(
      field,
      `keys and values together must be at most ${MAX_LABELS_TOTAL_BYTES} bytes, got ${total}`,
    );
  }
  return labels;
}

export interface LabelSelector {
  readonly key: string;
  readonly value: string;
}

/** parseLabelSelector reads a "key=value" filter ("" = none); the value may be empty. */
export function parseLabelSelector(text: string, field: string): LabelSelector | null {
  if (typeof text !== "string" || text === "") {
    return null;
  }
  const at = text.indexOf("=");
  if (at === -1) {
    throw invalidArgument(field, 'must be written "key=value"');
  }
  return {
    key: validateLabelKey(text.slice(0, at), field),
    value: validateSingleLineText(text.slice(at + 1), field, MAX_LABEL_VALUE_BYTES),
  };
}

export function sameLabels(a: Labels, b: Labels): boolean {
  const aKeys = Object.keys(a);
  return (
    aKeys.length === Object.keys(b).length && aKeys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}
