import type { InputHTMLAttributes } from "react";

/**
 * An input whose label is read by screen readers but not shown (the
 * placeholder says it on screen): the search boxes and the token field.
 */
export function HiddenLabelInput({
  label,
  ...input
}: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label>
      <span className="visually-hidden">{label}</span>
      <input {...input} />
    </label>
  );
}

/** A search box (hidden label, visible placeholder); `onChange` gets the new text. */
export function SearchBox({
  onChange,
  ...input
}: { label: string; onChange: (text: string) => void } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "type" | "onChange"
>) {
  return <HiddenLabelInput type="search" onChange={(e) => onChange(e.target.value)} {...input} />;
}
