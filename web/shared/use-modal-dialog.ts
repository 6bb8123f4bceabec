import { useCallback, useEffect, useRef } from "react";

/**
 * A `<dialog>` shown modal as soon as it mounts, and how to close it: every
 * confirmation (actions, profiles, the policies' switch) opens and closes
 * the same way. `onClose` runs when the dialog closes, however it closes
 * (Escape included, through the element's `close` event).
 */
export function useModalDialog(onClose: () => void) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || dialog.open) return;
    // jsdom (component tests) has no showModal; a plain open dialog is enough there.
    if (typeof (dialog as Partial<HTMLDialogElement>).showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }, []);
  const close = useCallback(() => {
    const dialog = ref.current as Partial<HTMLDialogElement> | null;
    // jsdom's dialog has no close(); onClose is what closing leads to anyway.
    if (dialog?.open && typeof dialog.close === "function") dialog.close();
    else onClose();
  }, [onClose]);
  return { ref, close };
}
