/**
 * Confirmation dialogs (native <dialog>: focus stays inside, Escape cancels) and status toasts
 * (announced by screen readers), available to every page through hooks.
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from 'react';

export interface ConfirmOptions {
  title: string;
  /** What the change does, in plain words. */
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  /** The user must type this text to enable the confirm button (for the most destructive changes). */
  typeToConfirm?: string;
}

interface Overlays {
  confirm(options: ConfirmOptions): Promise<boolean>;
  toast(message: string, tone?: 'ok' | 'error'): void;
}

const OverlayContext = createContext<Overlays | undefined>(undefined);

interface Pending extends ConfirmOptions {
  resolve(ok: boolean): void;
}

interface Toast {
  id: number;
  message: string;
  tone: 'ok' | 'error';
}

export function OverlayProvider({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<Pending>();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextToast = useRef(1);

  const confirm = useCallback(
    (options: ConfirmOptions) =>
      new Promise<boolean>((resolve) => {
        setPending({ ...options, resolve });
      }),
    [],
  );

  const toast = useCallback((message: string, tone: 'ok' | 'error' = 'ok') => {
    const id = nextToast.current++;
    // the newest three, each for five seconds
    setToasts((list) => [...list, { id, message, tone }].slice(-3));
    window.setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), 5000);
  }, []);

  const value = useMemo(() => ({ confirm, toast }), [confirm, toast]);

  return (
    <OverlayContext.Provider value={value}>
      {children}
      {pending ? (
        <ConfirmDialog
          options={pending}
          onClose={(ok) => {
            pending.resolve(ok);
            setPending(undefined);
          }}
        />
      ) : null}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`}>
            {t.message}
            <button
              type="button"
              className="toast-close"
              aria-label="Dismiss"
              onClick={() => setToasts((list) => list.filter((x) => x.id !== t.id))}
            >
              ×
            </button>
          </div>
        ))}
      </div>
    </OverlayContext.Provider>
  );
}

function ConfirmDialog({ options, onClose }: { options: ConfirmOptions; onClose(ok: boolean): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const [typed, setTyped] = useState('');
  const id = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    opener.current = document.activeElement;
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    if (!options.typeToConfirm) cancelRef.current?.focus();
    return () => {
      if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
    };
  }, [options.typeToConfirm]);

  const blocked = options.typeToConfirm !== undefined && typed !== options.typeToConfirm;

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onCancel={(e) => {
        e.preventDefault();
        onClose(false);
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!blocked) onClose(true);
        }}
      >
        <h2 id={`${id}-title`} className="dialog-title">
          {options.title}
        </h2>
        <div id={`${id}-body`} className="dialog-body">
          {options.body}
        </div>
        {options.typeToConfirm !== undefined ? (
          <div className="field">
            <label htmlFor={`${id}-type`}>
              Type <code>{options.typeToConfirm}</code> to confirm
            </label>
            <input
              id={`${id}-type`}
              autoFocus
              autoComplete="off"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
            />
          </div>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" ref={cancelRef} onClick={() => onClose(false)}>
            Cancel
          </button>
          <button type="submit" className={`btn ${options.danger ? 'btn-danger' : 'btn-primary'}`} disabled={blocked}>
            {options.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function useOverlays(): Overlays {
  const value = useContext(OverlayContext);
  if (!value) throw new Error('useOverlays outside OverlayProvider');
  return value;
}
