/** All entities, searchable, with links to their designer and their data. */
import { useMemo, useState } from 'react';
import { useCatalog } from '../catalog.tsx';
import { EmptyState, PageHeader, TableHead } from '../components/ui.tsx';
import { Link, useTitle } from '../router.tsx';
import { useCan } from '../security/session.tsx';

export function EntityList() {
  useTitle('Entities');
  const { entities } = useCatalog();
  const allowed = useCan();
  const [search, setSearch] = useState('');
  const shown = useMemo(() => {
    const q = search.trim().toLowerCase();
    if (!q) return entities;
    return entities.filter(
      (e) =>
        e.name.includes(q) ||
        e.displayName.toLowerCase().includes(q) ||
        (e.description ?? '').toLowerCase().includes(q) ||
        e.fields.some((f) => f.name.includes(q)),
    );
  }, [entities, search]);

  return (
    <>
      <PageHeader
        title="Entities"
        subtitle="Each entity is a real table with live REST, GraphQL and SDK APIs."
        actions={
          allowed.metadata ? (
            <Link to="/entities/new" className="btn btn-primary">
              New entity
            </Link>
          ) : undefined
        }
      />
      <div className="toolbar">
        <div className="field field-inline">
          <label htmlFor="entity-search">Search entities</label>
          <input
            id="entity-search"
            type="search"
            placeholder="Name, label or field…"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <span className="muted">
          {shown.length} of {entities.length}
        </span>
      </div>
      {entities.length === 0 ? (
        <EmptyState title="No entities yet">
          {allowed.metadata ? (
            <>
              <p>Create the first entity: it gets a table, a REST endpoint and GraphQL types at once.</p>
              <Link to="/entities/new" className="btn btn-primary">
                New entity
              </Link>
            </>
          ) : null}
        </EmptyState>
      ) : shown.length === 0 ? (
        <EmptyState title={`No entity matches “${search}”`} />
      ) : (
        <div className="table-wrap">
          <table className="table">
            <TableHead
              columns={['Entity', 'Name', 'Primary field', { label: 'Fields', numeric: true }, 'Relations']}
              actions="Actions"
            />
            <tbody>
              {shown.map((e) => (
                <tr key={e.name}>
                  <td>
                    <Link to={`/entities/${e.name}`} className="strong">
                      {e.displayName}
                    </Link>
                    {e.description ? <div className="muted small">{e.description}</div> : null}
                  </td>
                  <td>
                    <code>{e.name}</code>
                  </td>
                  <td>
                    <code>{e.primaryField}</code>
                  </td>
                  <td className="num">{e.fields.length}</td>
                  <td className="small">
                    {e.navigations.length ? (
                      e.navigations.map((n) => n.name).join(', ')
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="row-actions">
                    <Link to={`/entities/${e.name}`} className="btn btn-small" aria-label={`Design ${e.displayName}`}>
                      Design
                    </Link>
                    <Link to={`/data/${e.name}`} className="btn btn-small" aria-label={`Browse ${e.pluralDisplayName}`}>
                      Data
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
