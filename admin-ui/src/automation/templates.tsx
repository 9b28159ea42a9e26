/**
 * Templates in a rule's text: inputs that remember being the last focused one, and chips
 * (`{{record.<field>}}`, `{{record.<lookup>.<field>}}`, `{{now + P2D}}`) that insert their template
 * at its cursor — or, with no such input, copy it.
 */
import { createContext, useContext, useRef, type ComponentProps, type ReactNode, type RefObject } from 'react';
import { entityOf, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import type { EntityDef } from '../types.ts';

interface Target {
  element: HTMLInputElement | HTMLTextAreaElement;
  insert(text: string): void;
}

const TemplateContext = createContext<RefObject<Target | undefined> | undefined>(undefined);

export function TemplateScope({ children }: { children: ReactNode }) {
  const target = useRef<Target | undefined>(undefined);
  return <TemplateContext.Provider value={target}>{children}</TemplateContext.Provider>;
}

type InputProps = Omit<ComponentProps<'input'>, 'value' | 'onChange'>;
type AreaProps = Omit<ComponentProps<'textarea'>, 'value' | 'onChange'>;

/** A text input (or, `multiline`, a textarea) that template chips insert into. */
export function TemplateInput(
  props: { value: string; onChange(value: string): void } & (
    | ({ multiline?: false } & InputProps)
    | ({ multiline: true } & AreaProps)
  ),
) {
  const target = useContext(TemplateContext);
  const latest = useRef(props);
  latest.current = props;
  const register = (element: HTMLInputElement | HTMLTextAreaElement) => {
    if (!target) return;
    target.current = {
      element,
      insert: (text) => {
        const { value, onChange } = latest.current;
        const start = element.selectionStart ?? value.length;
        const end = element.selectionEnd ?? start;
        onChange(value.slice(0, start) + text + value.slice(end));
        const caret = start + text.length;
        requestAnimationFrame(() => {
          element.focus();
          element.setSelectionRange(caret, caret);
        });
      },
    };
  };
  if (props.multiline) {
    const { multiline: _m, value, onChange, onFocus, ...rest } = props;
    return (
      <textarea
        {...rest}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onFocus={(e) => {
          register(e.currentTarget);
          onFocus?.(e);
        }}
      />
    );
  }
  const { multiline: _m, value, onChange, onFocus, ...rest } = props;
  return (
    <input
      {...rest}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      onFocus={(e) => {
        register(e.currentTarget);
        onFocus?.(e);
      }}
    />
  );
}

/** The templates a rule on `entity` can use, as chips. */
export function TemplateHints({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const target = useContext(TemplateContext);
  const { toast } = useOverlays();
  const insert = (text: string) => {
    const t = target?.current;
    if (t?.element.isConnected) {
      t.insert(text);
      return;
    }
    void navigator.clipboard
      ?.writeText(text)
      .then(() => toast(`Copied ${text}`))
      .catch(() => toast(`Type ${text} into a text box`));
  };
  const chip = (text: string, title?: string) => (
    <li key={text}>
      <button
        type="button"
        className="template-chip mono"
        title={title}
        // keeps the focus (and the cursor) in the text box the template goes into
        onMouseDown={(e) => e.preventDefault()}
        onClick={() => insert(text)}
      >
        {text}
      </button>
    </li>
  );
  const lookups = entity.fields.filter((f) => f.type === 'lookup' && f.target);
  return (
    <div className="template-hints">
      <p className="small muted">
        Templates: click one to insert it at the cursor of the text box you were in. A value that is exactly one
        template keeps its type.
      </p>
      <ul className="template-chips" aria-label="Templates of the record">
        {entity.fields.map((f) => chip(`{{record.${f.name}}}`, f.displayName))}
        {chip('{{record.id}}', 'Id')}
        {chip('{{now}}', 'The time the rule runs')}
        {chip('{{now + P2D}}', 'Two days after the run (ISO 8601 duration)')}
        {chip('{{now - PT4H}}', 'Four hours before the run')}
      </ul>
      {lookups.map((lookup) => {
        const related = entityOf(catalog, lookup.target!);
        if (!related) return null;
        return (
          <details key={lookup.name} className="template-lookup">
            <summary className="small">
              Through {lookup.displayName} ({related.displayName})
            </summary>
            <ul className="template-chips" aria-label={`Templates through ${lookup.displayName}`}>
              {related.fields.map((f) => chip(`{{record.${lookup.name}.${f.name}}}`, f.displayName))}
            </ul>
          </details>
        );
      })}
    </div>
  );
}
