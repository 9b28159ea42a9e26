/** Chooses and orders the grid's columns (a disclosure with one checkbox per column). */
import { useEffect, useRef, useState } from 'react';
import type { Column } from './columns.ts';

export function ColumnPicker({
  columns,
  visible,
  onChange,
  onReset,
}: {
  columns: Column[];
  visible: string[];
  onChange(next: string[]): void;
  onReset(): void;
}) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDocument = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDocument);
    return () => document.removeEventListener('mousedown', onDocument);
  }, [open]);

  const toggle = (name: string, on: boolean) => {
    if (on) {
      // keep the entity's column order
      const order = columns.map((c) => c.name);
      onChange([...visible, name].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    } else {
      onChange(visible.filter((v) => v !== name));
    }
  };

  return (
    <div
      className="popover-anchor"
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          setOpen(false);
          ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
        }
      }}
    >
      <button
        type="button"
        className="btn"
        aria-expanded={open}
        aria-controls="column-picker"
        onClick={() => setOpen((o) => !o)}
      >
        Columns ({visible.length})
      </button>
      {open ? (
        <div className="popover" id="column-picker" role="group" aria-label="Visible columns">
          <div className="popover-body checks checks-column">
            {columns.map((c) => (
              <label key={c.name} className="check">
                <input
                  type="checkbox"
                  checked={visible.includes(c.name)}
                  disabled={visible.length === 1 && visible.includes(c.name)}
                  onChange={(e) => toggle(c.name, e.target.checked)}
                />
                {c.label}
                {c.system ? <span className="muted small"> (system)</span> : null}
              </label>
            ))}
          </div>
          <div className="popover-footer">
            <button type="button" className="btn btn-small" onClick={onReset}>
              Reset to default
            </button>
            <button type="button" className="btn btn-small" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
