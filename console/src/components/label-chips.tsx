/** A key's or group's labels as key=value chips, sorted by key; "—" when there are none. */
import { labelEntries } from "../key-form.js";

export function LabelChips({ labels }: { readonly labels: Readonly<Record<string, string>> }) {
  const entries = labelEntries(labels);
  if (entries.length === 0) {
    return <>—</>;
  }
  return (
    <ul className="chips" aria-label="Labels">
      {entries.map(([key, value]) => (
        <li key={key} className="chip">
          {key}={value}
        </li>
      ))}
    </ul>
  );
}
