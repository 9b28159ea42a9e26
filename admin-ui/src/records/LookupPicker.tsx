/**
 * A lookup's value: a combobox with type-ahead over the target entity's primary field
 * (`filter={"<primary>":{"icontains":"…"}}`), keyboard-operable (arrows, Enter, Escape), with a
 * link to the selected record and a button to clear it.
 */
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { Link } from '../router.tsx';
import type { EntityDef } from '../types.ts';

interface Option {
  id: string;
  label: string;
}

export interface LookupPickerProps {
  id: string;
  target: EntityDef;
  value: string;
  onChange(id: string, label?: string): void;
  describedBy?: string;
  invalid?: boolean;
  /** The selected record's label when the caller already knows it. */
  initialLabel?: string;
  /** Ids to leave out of the suggestions (e.g. already linked records). */
  exclude?: readonly string[];
  showOpenLink?: boolean;
  placeholder?: string;
  /** Shown, not changeable (the record or the field is read-only for the caller). */
  disabled?: boolean;
}

export function LookupPicker({
  id,
  target,
  value,
  onChange,
  describedBy,
  invalid,
  initialLabel,
  exclude,
  showOpenLink = true,
  placeholder,
  disabled,
}: LookupPickerProps) {
  const listId = useId();
  const [label, setLabel] = useState(initialLabel ?? '');
  const [text, setText] = useState(initialLabel ?? '');
  const [editing, setEditing] = useState(false);
  const [open, setOpen] = useState(false);
  const [options, setOptions] = useState<Option[]>([]);
  const [active, setActive] = useState(-1);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const request = useRef(0);
  const primary = target.primaryField;

  // the label of the selected record
  useEffect(() => {
    if (!value) {
      setLabel('');
      if (!editing) setText('');
      return;
    }
    if (initialLabel !== undefined) {
      setLabel(initialLabel);
      if (!editing) setText(initialLabel);
      return;
    }
    let cancelled = false;
    api
      .get(target.name, value, { select: primary })
      .then((record) => {
        if (cancelled) return;
        const l = String(record[primary] ?? value);
        setLabel(l);
        setText((t) => (editing ? t : l));
      })
      .catch(() => {
        if (!cancelled) setLabel(value);
      });
    return () => {
      cancelled = true;
    };
  }, [value, target.name, primary, initialLabel]);

  // suggestions for the typed text
  useEffect(() => {
    if (!open) return;
    const q = editing ? text.trim() : '';
    const n = ++request.current;
    setLoading(true);
    const timer = window.setTimeout(() => {
      api
        .list(target.name, {
          select: primary,
          sort: primary,
          limit: 10,
          filter: q ? JSON.stringify({ [primary]: { icontains: q } }) : undefined,
        })
        .then((page) => {
          if (n !== request.current) return;
          const list = page.data
            .filter((r) => !exclude?.includes(r.id))
            .map((r) => ({ id: r.id, label: String(r[primary] ?? r.id) }));
          setOptions(list);
          setActive(list.length ? 0 : -1);
          setError(undefined);
          setLoading(false);
        })
        .catch((e) => {
          if (n !== request.current) return;
          setError(toProblem(e).detail ?? 'Could not load suggestions');
          setOptions([]);
          setLoading(false);
        });
    }, 150);
    return () => window.clearTimeout(timer);
  }, [open, text, editing, target.name, primary, exclude]);

  const choose = (option: Option) => {
    setLabel(option.label);
    setText(option.label);
    setEditing(false);
    setOpen(false);
    onChange(option.id, option.label);
  };

  const close = () => {
    setOpen(false);
    setEditing(false);
    if (!text.trim() && value) {
      onChange('', undefined);
      setLabel('');
    } else {
      setText(label);
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      if (!open) setOpen(true);
      else setActive((a) => Math.min(a + 1, options.length - 1));
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (event.key === 'Enter') {
      if (open && active >= 0 && options[active]) {
        event.preventDefault();
        choose(options[active]);
      }
    } else if (event.key === 'Escape') {
      if (open) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    }
  };

  const activeId = open && active >= 0 && options[active] ? `${listId}-${active}` : undefined;

  return (
    <div className="lookup">
      <div className="lookup-row">
        <input
          id={id}
          type="text"
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open}
          aria-controls={listId}
          aria-activedescendant={activeId}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
          autoComplete="off"
          disabled={disabled}
          placeholder={placeholder ?? `Search ${target.pluralDisplayName.toLowerCase()}…`}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setEditing(true);
            setOpen(true);
          }}
          onFocus={() => setOpen(true)}
          onBlur={close}
          onKeyDown={onKeyDown}
        />
        {value && !disabled ? (
          <button
            type="button"
            className="btn btn-icon"
            aria-label={`Clear ${label || 'selection'}`}
            onClick={() => {
              setText('');
              setLabel('');
              onChange('', undefined);
            }}
          >
            ×
          </button>
        ) : null}
        {value && showOpenLink ? (
          <Link
            to={`/data/${target.name}/${value}`}
            className="btn btn-small"
            aria-label={`Open ${target.displayName} ${label}`}
          >
            Open
          </Link>
        ) : null}
      </div>
      {open ? (
        <ul id={listId} role="listbox" className="lookup-list" aria-label={`${target.pluralDisplayName} matching`}>
          {loading && !options.length ? <li className="lookup-note">Searching…</li> : null}
          {error ? <li className="lookup-note lookup-error">{error}</li> : null}
          {!loading && !error && !options.length ? (
            <li className="lookup-note">No {target.pluralDisplayName.toLowerCase()} match</li>
          ) : null}
          {options.map((o, i) => (
            <li
              key={o.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={
                `lookup-option${i === active ? ' lookup-option-active' : ''}` +
                (o.id === value ? ' lookup-option-selected' : '')
              }
              onMouseDown={(e) => e.preventDefault()}
              onMouseEnter={() => setActive(i)}
              onClick={() => choose(o)}
            >
              {o.label}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
