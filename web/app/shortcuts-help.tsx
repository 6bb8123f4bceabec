import { SHORTCUTS } from "./use-shortcuts";

/** The keyboard shortcuts, over the page; a click outside or Close dismisses it. */
export function ShortcutsHelp({ onClose }: { onClose: () => void }) {
  return (
    <div
      className="overlay"
      role="dialog"
      aria-modal="true"
      aria-labelledby="shortcuts-title"
      onClick={onClose}
    >
      <div className="overlay-card" onClick={(e) => e.stopPropagation()}>
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <dl className="facts">
          {SHORTCUTS.map(([keys, what]) => (
            <div key={keys} style={{ display: "contents" }}>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </div>
          ))}
        </dl>
        <button type="button" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}
