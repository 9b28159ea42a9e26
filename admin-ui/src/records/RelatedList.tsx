/**
 * Records related to one record: the one-to-many inverse of a lookup (with a link to create one
 * already pointing here) or a many-to-many relationship (link and unlink).
 */
import { useCallback, useEffect, useState } from 'react';
import { api, toProblem } from '../api.ts';
import { entityOf, useCatalog } from '../catalog.tsx';
import { useOverlays } from '../components/overlays.tsx';
import { Loading, ProblemBanner } from '../components/ui.tsx';
import { Link } from '../router.tsx';
import type { DataRecord, EntityDef, Navigation, Problem } from '../types.ts';
import { columnsOf } from './columns.ts';
import { LookupPicker } from './LookupPicker.tsx';
import { navigationLabel } from './navigations.ts';
import { formatValue } from './values.ts';
import { ValueText } from './ValueText.tsx';

const PAGE = 10;

export function RelatedList({ entity, id, navigation }: { entity: EntityDef; id: string; navigation: Navigation }) {
  const catalog = useCatalog();
  const { toast } = useOverlays();
  const otherName = navigation.kind === 'inverse' ? navigation.source : navigation.other;
  const other = entityOf(catalog, otherName);
  const [records, setRecords] = useState<DataRecord[]>();
  const [total, setTotal] = useState<number>();
  const [next, setNext] = useState<string>();
  const [problem, setProblem] = useState<Problem>();
  const [picked, setPicked] = useState('');
  const [busy, setBusy] = useState(false);

  const columns = other
    ? columnsOf(catalog, other).filter(
        (c) =>
          !c.system &&
          c.type !== 'json' &&
          c.type !== 'longText' &&
          c.type !== 'lookup' &&
          !(navigation.kind === 'inverse' && c.name === navigation.field),
      )
    : [];
  const shown = other
    ? [
        columns.find((c) => c.name === other.primaryField)!,
        ...columns.filter((c) => c.name !== other.primaryField).slice(0, 3),
      ].filter(Boolean)
    : [];
  const select = shown.map((c) => c.name).join(',');

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api.related(entity.name, id, navigation.name, {
          select: select || 'id',
          limit: PAGE,
          cursor,
          count: true,
        });
        setRecords((list) => (cursor ? [...(list ?? []), ...page.data] : page.data));
        setTotal(page.totalCount);
        setNext(page.nextCursor);
        setProblem(undefined);
      } catch (error) {
        setProblem(toProblem(error));
      }
    },
    [entity.name, id, navigation.name, select],
  );

  useEffect(() => {
    void load();
  }, [load]);

  if (!other) return null;
  const title = navigationLabel(catalog, navigation);
  const kind =
    navigation.kind === 'inverse'
      ? `One-to-many: ${other.pluralDisplayName.toLowerCase()} whose ` +
        `${other.fields.find((f) => f.name === navigation.field)?.displayName ?? navigation.field} ` +
        `is this ${entity.displayName.toLowerCase()}`
      : `Many-to-many with ${other.pluralDisplayName.toLowerCase()}`;

  const link = async () => {
    if (!picked || navigation.kind !== 'manyToMany') return;
    setBusy(true);
    try {
      await api.associate(entity.name, id, navigation.name, picked);
      setPicked('');
      toast(`${other.displayName} linked`);
      await load();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  const unlink = async (record: DataRecord) => {
    setBusy(true);
    try {
      await api.disassociate(entity.name, id, navigation.name, record.id);
      toast(`${other.displayName} “${String(record[other.primaryField] ?? record.id)}” unlinked`);
      await load();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card related-list" aria-label={`${title} (${navigation.name})`}>
      <div className="related-head">
        <h3 className="card-title">
          {title}
          {total !== undefined ? <span className="count-badge">{total}</span> : null}
        </h3>
        {navigation.kind === 'inverse' ? (
          <Link
            to={`/data/${other.name}/new?${encodeURIComponent(navigation.field)}=${encodeURIComponent(id)}`}
            className="btn btn-small"
          >
            New {other.displayName.toLowerCase()}
          </Link>
        ) : null}
      </div>
      <p className="muted small related-kind">
        {kind} · <code>{navigation.name}</code>
      </p>
      {problem ? <ProblemBanner problem={problem} /> : null}
      {!records && !problem ? <Loading /> : null}
      {records && records.length === 0 ? <p className="muted small">None yet.</p> : null}
      {records && records.length > 0 ? (
        <div className="table-scroll">
          <table className="table table-compact">
            <thead>
              <tr>
                {shown.map((c) => (
                  <th key={c.name} scope="col">
                    {c.label}
                  </th>
                ))}
                {navigation.kind === 'manyToMany' ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.id}>
                  {shown.map((c) => (
                    <td key={c.name}>
                      {c.name === other.primaryField ? (
                        <Link to={`/data/${other.name}/${r.id}`}>
                          {formatValue(c.type, r[c.name], c.options) || r.id}
                        </Link>
                      ) : (
                        <ValueText type={c.type} value={r[c.name]} options={c.options} />
                      )}
                    </td>
                  ))}
                  {navigation.kind === 'manyToMany' ? (
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small btn-danger-ghost"
                        disabled={busy}
                        aria-label={`Unlink ${String(r[other.primaryField] ?? r.id)}`}
                        onClick={() => void unlink(r)}
                      >
                        Unlink
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next ? (
        <button type="button" className="btn btn-small" onClick={() => void load(next)}>
          Show more
        </button>
      ) : null}
      {navigation.kind === 'manyToMany' ? (
        <div className="related-link">
          <div className="field">
            <label htmlFor={`link-${navigation.name}`}>Link a {other.displayName.toLowerCase()}</label>
            <LookupPicker
              id={`link-${navigation.name}`}
              target={other}
              value={picked}
              onChange={(v) => setPicked(v)}
              exclude={records?.map((r) => r.id)}
              showOpenLink={false}
            />
          </div>
          <button type="button" className="btn" disabled={!picked || busy} onClick={() => void link()}>
            Link
          </button>
        </div>
      ) : null}
    </section>
  );
}
