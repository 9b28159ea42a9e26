/** Small building blocks shared by every page: states, problems, form fields, tabs. */
import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { Link, navigate } from '../router.tsx';
import type { Problem } from '../types.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children}
    </div>
  );
}

/**
 * A problem from the server: its title and detail, and the field errors not shown next to their
 * controls (pass `errors` to override which are listed).
 */
export function ProblemBanner({
  problem,
  errors,
  onRetry,
}: {
  problem: Problem;
  errors?: Problem['errors'];
  onRetry?: () => void;
}) {
  // the platform's detail already spells out its errors ("…: /email must match format"): list only the others
  const list = (errors ?? problem.errors ?? []).filter((e) => !problem.detail?.includes(`${e.path} ${e.message}`));
  return (
    <div className="problem" role="alert">
      <p className="problem-title">
        {problem.title}
        {problem.status ? <span className="problem-status">{problem.status}</span> : null}
      </p>
      {problem.detail ? <p className="problem-detail">{problem.detail}</p> : null}
      {list.length ? (
        <ul className="problem-errors">
          {list.map((e, i) => (
            <li key={i}>
              <code>{e.path}</code> {e.message}
            </li>
          ))}
        </ul>
      ) : null}
      {onRetry ? (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** Errors of a problem keyed by their first path segment ("/email/0" → "email"). */
export function errorsByField(problem: Problem | undefined): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const e of problem?.errors ?? []) {
    const key = e.path.split('/')[1] ?? '';
    map.set(key, [...(map.get(key) ?? []), e.message]);
  }
  return map;
}

export interface FieldProps {
  label: ReactNode;
  required?: boolean;
  hint?: ReactNode;
  error?: string | string[];
  className?: string;
  /** Renders the control; gets the id to put on it and the describedby ids. */
  children: (control: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode;
}

/** A labelled form control with its hint and inline error. */
export function Field({ label, required, hint, error, className, children }: FieldProps) {
  const id = useId();
  const errors = error === undefined ? [] : Array.isArray(error) ? error : [error];
  const describedBy =
    [hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${errors.length ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id} className={required ? 'label-required' : undefined}>
        {label}
      </label>
      {children({ id, describedBy, invalid: errors.length > 0 })}
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {errors.length ? (
        <p className="field-error" id={`${id}-error`}>
          {errors.join('; ')}
        </p>
      ) : null}
    </div>
  );
}

/** A group of controls (checkboxes, radios) under one legend, with its inline error. */
export function FieldGroup({
  legend,
  error,
  hint,
  children,
  className,
}: {
  legend: ReactNode;
  error?: string | string[];
  hint?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const id = useId();
  const errors = error === undefined ? [] : Array.isArray(error) ? error : [error];
  return (
    <fieldset
      className={`field fieldset${errors.length ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}
      aria-describedby={errors.length ? `${id}-error` : undefined}
    >
      <legend>{legend}</legend>
      {children}
      {hint ? <p className="hint">{hint}</p> : null}
      {errors.length ? (
        <p className="field-error" id={`${id}-error`}>
          {errors.join('; ')}
        </p>
      ) : null}
    </fieldset>
  );
}

export interface TabDef {
  id: string;
  label: ReactNode;
  to: string;
}

/** Tabs that are links (each tab has its URL); arrow keys move between them. */
export function Tabs({ tabs, current, label }: { tabs: TabDef[]; current: string; label: string }) {
  const refs = useRef<(HTMLAnchorElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    let next = -1;
    if (event.key === 'ArrowRight') next = (index + 1) % tabs.length;
    else if (event.key === 'ArrowLeft') next = (index - 1 + tabs.length) % tabs.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = tabs.length - 1;
    if (next < 0) return;
    event.preventDefault();
    refs.current[next]?.focus();
    navigate(tabs[next]!.to, { replace: true });
  };
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((tab, i) => (
        <Link
          key={tab.id}
          to={tab.to}
          role="tab"
          id={`tab-${tab.id}`}
          aria-selected={tab.id === current}
          aria-controls="tabpanel"
          tabIndex={tab.id === current ? 0 : -1}
          className={`tab${tab.id === current ? ' tab-current' : ''}`}
          ref={(el) => {
            refs.current[i] = el;
          }}
          onKeyDown={(e) => onKeyDown(e, i)}
        >
          {tab.label}
        </Link>
      ))}
    </div>
  );
}

export function Badge({
  children,
  tone = 'neutral',
}: {
  children: ReactNode;
  tone?: 'neutral' | 'info' | 'warn' | 'ok';
}) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function PageHeader({
  title,
  subtitle,
  actions,
  breadcrumbs,
}: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  breadcrumbs?: { label: string; to: string }[];
}) {
  return (
    <header className="page-header">
      {breadcrumbs?.length ? (
        <nav aria-label="Breadcrumb" className="breadcrumbs">
          <ol>
            {breadcrumbs.map((b) => (
              <li key={b.to}>
                <Link to={b.to}>{b.label}</Link>
              </li>
            ))}
          </ol>
        </nav>
      ) : null}
      <div className="page-header-row">
        <div>
          <h1>{title}</h1>
          {subtitle ? <p className="page-subtitle">{subtitle}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
    </header>
  );
}

export type HeadColumn = string | { label: string; numeric?: boolean };

/**
 * A table's header row: column titles (numeric ones right-aligned) and, when `actions` names the
 * last column's purpose, a column whose title only screen readers hear.
 */
export function TableHead({ columns, actions }: { columns: HeadColumn[]; actions?: string }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => {
          const { label, numeric } = typeof c === 'string' ? { label: c, numeric: false } : c;
          return (
            <th key={label} scope="col" className={numeric ? 'num' : undefined}>
              {label}
            </th>
          );
        })}
        {actions ? (
          <th scope="col">
            <span className="visually-hidden">{actions}</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}
