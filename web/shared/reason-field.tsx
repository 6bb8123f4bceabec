/**
 * "Reason (recorded in the audit log)": the required, bounded reason every
 * operator action asks for, focused when its dialog opens.
 */
export function ReasonField({
  id,
  value,
  onChange,
  placeholder,
  rows = 3,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  placeholder: string;
  rows?: number;
}) {
  return (
    <>
      <label htmlFor={id}>Reason (recorded in the audit log)</label>
      <textarea
        id={id}
        required
        maxLength={1000}
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        autoFocus
      />
    </>
  );
}
