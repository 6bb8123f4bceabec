/** A labelled text box of a filter bar; `onChange` gets the new text. */
export function TextFilter({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {label} <input value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}
