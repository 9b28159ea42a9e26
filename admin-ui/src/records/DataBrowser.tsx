/**
 * The records of one entity: a grid with a column picker, sortable headers (`sort=`), the filter
 * builder (`filter=`), full-text search (`search=`), keyset paging (`nextCursor`) and the row
 * count (`count=true`). Sort, filter, search and page size live in the URL.
 */
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { api, toProblem } from '../api.ts';
import { entityOf, useCatalog } from '../catalog.tsx';
import { EmptyState, Loading, PageHeader, ProblemBanner } from '../components/ui.tsx';
import { Link, setQuery, useLocation, useTitle } from '../router.tsx';
import { useCan } from '../security/session.tsx';
import type { DataRecord, EntityDef, ListResponse, Problem } from '../types.ts';
import { ColumnPicker } from './ColumnPicker.tsx';
import { gridLayout, OPEN_COLUMN_WIDTH } from './column-layout.ts';
import { columnsOf, defaultColumns, loadColumns, saveColumns, type Column } from './columns.ts';
import { EMPTY_FILTER, FilterBuilder, filterOf, stateOf, type FilterState } from './FilterBuilder.tsx';
import { formatValue } from './values.ts';
import { ValueText } from './ValueText.tsx';

interface SortKey {
  field: string;
  desc: boolean;
}

const parseSort = (text: string | null): SortKey[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => ({ field: s.replace(/^-/, ''), desc: s.startsWith('-') }));

const PAGE_SIZES = [25, 50, 100];

export function DataBrowser({ entityName }: { entityName: string }) {
  const catalog = useCatalog();
  const entity = entityOf(catalog, entityName);
  useTitle(entity ? entity.pluralDisplayName : 'Entity not found');
  if (!entity) {
    return (
      <EmptyState title={`No entity “${entityName}”`}>
        <Link to="/entities">Back to the entities</Link>
      </EmptyState>
    );
  }
  return <Browser entity={entity} />;
}

function Browser({ entity }: { entity: EntityDef }) {
  const catalog = useCatalog();
  const mayCreate = useCan().allows(entity.name, 'create');
  const { search: params } = useLocation();
  const columns = useMemo(() => columnsOf(catalog, entity), [catalog, entity]);
  const [visible, setVisible] = useState<string[]>(() => loadColumns(entity, columns));
  const sort = parseSort(params.get('sort'));
  const sortText = params.get('sort') ?? '';
  const filterText = params.get('filter') ?? '';
  const searchText = params.get('search') ?? '';
  const limit = Number(params.get('limit')) || 25;
  const [searchInput, setSearchInput] = useState(searchText);
  const [filterOpen, setFilterOpen] = useState(false);
  // keyset paging: the cursors of the pages read so far, for this query only
  const queryKey = JSON.stringify([entity.name, sortText, filterText, searchText, limit]);
  const [paging, setPaging] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key: queryKey,
    cursors: [undefined],
  });
  const cursors = paging.key === queryKey ? paging.cursors : [undefined];
  const setCursors = (update: (c: (string | undefined)[]) => (string | undefined)[]) =>
    setPaging({ key: queryKey, cursors: update(cursors) });
  const [page, setPage] = useState<ListResponse<DataRecord>>();
  const [problem, setProblem] = useState<Problem>();
  const [loading, setLoading] = useState(true);
  const [reloadToken, setReloadToken] = useState(0);
  const cursor = cursors[cursors.length - 1];

  const parsedFilter = useMemo(() => {
    if (!filterText) return undefined;
    try {
      return JSON.parse(filterText) as unknown;
    } catch {
      return undefined;
    }
  }, [filterText]);
  const filterState: FilterState | undefined =
    parsedFilter === undefined ? EMPTY_FILTER : stateOf(parsedFilter, columns);

  const shown = visible.map((n) => columns.find((c) => c.name === n)).filter((c): c is Column => Boolean(c));
  const primaryShown = shown.some((c) => c.name === entity.primaryField);
  const layout = gridLayout(shown, entity.primaryField, !primaryShown);
  const select = shown.filter((c) => c.type !== 'lookup').map((c) => c.name);
  const expand = shown
    .filter((c) => c.type === 'lookup' && c.target)
    .map((c) => `${c.name}(select=${c.target!.primaryField})`)
    .join(',');
  const selectText = (select.length ? select : ['id']).join(',');

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    api
      .list(
        entity.name,
        {
          select: selectText,
          expand: expand || undefined,
          sort: sortText || undefined,
          filter: filterText || undefined,
          search: searchText || undefined,
          limit,
          cursor,
          count: true,
        },
        controller.signal,
      )
      .then((result) => {
        setPage(result);
        setProblem(undefined);
        setLoading(false);
      })
      .catch((error) => {
        if (controller.signal.aborted) return;
        setProblem(toProblem(error));
        setPage(undefined);
        setLoading(false);
      });
    return () => controller.abort();
  }, [entity.name, selectText, expand, sortText, filterText, searchText, limit, cursor, reloadToken]);

  // search as you type, without a request per keystroke
  const searchTimer = useRef<number | undefined>(undefined);
  const onSearch = (value: string) => {
    setSearchInput(value);
    window.clearTimeout(searchTimer.current);
    searchTimer.current = window.setTimeout(() => setQuery({ search: value.trim() || undefined }), 300);
  };

  const onSort = (column: Column, event: MouseEvent) => {
    const key =
      column.type === 'lookup' && column.target ? `${column.name}.${column.target.primaryField}` : column.name;
    const current = sort.find((s) => s.field === key);
    let next: SortKey[];
    if (event.shiftKey) {
      next = current
        ? sort.map((s) => (s.field === key ? { ...s, desc: !s.desc } : s))
        : [...sort, { field: key, desc: false }];
    } else if (!current || sort.length > 1) next = [{ field: key, desc: current ? !current.desc : false }];
    else if (!current.desc) next = [{ field: key, desc: true }];
    else next = [];
    setQuery({ sort: next.map((s) => `${s.desc ? '-' : ''}${s.field}`).join(',') || undefined });
  };

  const applyFilter = (state: FilterState) => {
    const { filter } = filterOf(state, columns);
    setQuery({ filter: filter ? JSON.stringify(filter) : undefined });
    if (!filter) setFilterOpen(false);
  };

  const changeColumns = (next: string[]) => {
    setVisible(next);
    saveColumns(entity.name, next);
  };

  const rowCount = page?.totalCount;
  const pageIndex = cursors.length - 1;
  const firstRow = pageIndex * limit + 1;
  const conditions = filterState?.rows.length ?? (filterText ? 1 : 0);

  return (
    <>
      <PageHeader
        title={entity.pluralDisplayName}
        subtitle={
          <>
            <code>GET /api/data/{entity.name}</code>
            {rowCount !== undefined ? (
              <span className="record-count" aria-live="polite">
                {' '}
                · {rowCount} record{rowCount === 1 ? '' : 's'}
                {filterText || searchText ? (rowCount === 1 ? ' matches' : ' match') : ''}
              </span>
            ) : null}
          </>
        }
        actions={
          <>
            <Link to={`/entities/${entity.name}`} className="btn">
              Design
            </Link>
            {mayCreate ? (
              <Link to={`/data/${entity.name}/new`} className="btn btn-primary">
                New {entity.displayName.toLowerCase()}
              </Link>
            ) : null}
          </>
        }
      />
      <div className="toolbar" role="toolbar" aria-label="Grid tools">
        <div className="field field-inline">
          <label htmlFor="grid-search">Search</label>
          <input
            id="grid-search"
            type="search"
            placeholder={`Search ${entity.pluralDisplayName.toLowerCase()}…`}
            value={searchInput}
            onChange={(e) => onSearch(e.target.value)}
          />
        </div>
        <button
          type="button"
          className={`btn${conditions ? ' btn-active' : ''}`}
          aria-expanded={filterOpen}
          aria-controls="filter-panel"
          onClick={() => setFilterOpen((o) => !o)}
        >
          Filter{conditions ? ` (${conditions})` : ''}
        </button>
        {filterText ? (
          <button type="button" className="btn btn-small" onClick={() => setQuery({ filter: undefined })}>
            Clear filter
          </button>
        ) : null}
        <ColumnPicker
          columns={columns}
          visible={visible}
          onChange={changeColumns}
          onReset={() => changeColumns(defaultColumns(entity))}
        />
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => setReloadToken((t) => t + 1)}>
          Refresh
        </button>
      </div>
      {filterOpen ? (
        <div id="filter-panel">
          {filterState ? (
            <FilterBuilder
              key={filterText}
              columns={columns}
              initial={filterState}
              onApply={applyFilter}
              onCancel={() => setFilterOpen(false)}
            />
          ) : (
            <div className="card">
              <p className="small">
                This page’s filter was not made by the builder: <code>{filterText}</code>
              </p>
              <button type="button" className="btn btn-small" onClick={() => setQuery({ filter: undefined })}>
                Clear it
              </button>
            </div>
          )}
        </div>
      ) : null}
      {problem ? <ProblemBanner problem={problem} onRetry={() => setReloadToken((t) => t + 1)} /> : null}
      {!page && loading ? <Loading label={`Loading ${entity.pluralDisplayName.toLowerCase()}…`} /> : null}
      {page && page.data.length === 0 ? (
        <EmptyState
          title={
            filterText || searchText
              ? `No ${entity.pluralDisplayName.toLowerCase()} match`
              : `No ${entity.pluralDisplayName.toLowerCase()} yet`
          }
        >
          {filterText || searchText ? (
            <button
              type="button"
              className="btn"
              onClick={() => {
                setSearchInput('');
                setQuery({ filter: undefined, search: undefined });
              }}
            >
              Clear filter and search
            </button>
          ) : mayCreate ? (
            <Link to={`/data/${entity.name}/new`} className="btn btn-primary">
              Create the first {entity.displayName.toLowerCase()}
            </Link>
          ) : null}
        </EmptyState>
      ) : null}
      {page && page.data.length > 0 ? (
        <>
          <div className={`table-wrap${loading ? ' is-loading' : ''}`} aria-busy={loading}>
            <table
              className="table grid"
              style={{ minWidth: layout.minWidth }}
              aria-label={entity.pluralDisplayName}
              aria-rowcount={rowCount !== undefined ? rowCount + 1 : undefined}
            >
              <colgroup>
                {!primaryShown ? <col style={{ width: OPEN_COLUMN_WIDTH }} /> : null}
                {shown.map((c, i) => (
                  <col key={c.name} style={layout.widths[i] ? { width: layout.widths[i] } : undefined} />
                ))}
              </colgroup>
              <thead>
                <tr>
                  {!primaryShown ? (
                    <th scope="col">
                      <span className="visually-hidden">Open</span>
                    </th>
                  ) : null}
                  {shown.map((c) => {
                    const key = c.type === 'lookup' && c.target ? `${c.name}.${c.target.primaryField}` : c.name;
                    const s = sort.find((x) => x.field === key);
                    const position = sort.length > 1 && s ? ` ${sort.indexOf(s) + 1}` : '';
                    return (
                      <th
                        key={c.name}
                        scope="col"
                        aria-sort={s ? (s.desc ? 'descending' : 'ascending') : 'none'}
                        className={c.numeric ? 'num' : undefined}
                      >
                        {c.sortable ? (
                          <button
                            type="button"
                            className="sort-button"
                            onClick={(e) => onSort(c, e)}
                            title="Click to sort; Shift-click to add a secondary sort"
                          >
                            {c.label}
                            <span className="sort-indicator" aria-hidden="true">
                              {s ? (s.desc ? '▼' : '▲') : '↕'}
                              {position}
                            </span>
                          </button>
                        ) : (
                          c.label
                        )}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {page.data.map((record) => (
                  <tr key={record.id}>
                    {!primaryShown ? (
                      <td>
                        <Link to={`/data/${entity.name}/${record.id}`}>Open</Link>
                      </td>
                    ) : null}
                    {shown.map((c) => (
                      <Cell key={c.name} column={c} record={record} entity={entity} />
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <span className="muted">
              {rowCount !== undefined
                ? `Showing ${firstRow}–${firstRow + page.data.length - 1} of ${rowCount}`
                : `Page ${pageIndex + 1}`}
            </span>
            <span className="spacer" />
            <div className="field field-inline">
              <label htmlFor="page-size">Rows per page</label>
              <select
                id="page-size"
                value={limit}
                onChange={(e) => setQuery({ limit: e.target.value === '25' ? undefined : e.target.value })}
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
            <button
              type="button"
              className="btn"
              disabled={pageIndex === 0 || loading}
              onClick={() => setCursors((c) => c.slice(0, -1))}
            >
              Previous
            </button>
            <button
              type="button"
              className="btn"
              disabled={!page.nextCursor || loading}
              onClick={() => setCursors((c) => [...c, page.nextCursor])}
            >
              Next
            </button>
          </nav>
        </>
      ) : null}
    </>
  );
}

function Cell({ column, record, entity }: { column: Column; record: DataRecord; entity: EntityDef }) {
  const value = record[column.name];
  const text = formatValue(column.type, value, column.options, column.target?.primaryField);
  // cells cut long values with an ellipsis: the tooltip has all of it (dates: their ISO value)
  const title = text && column.type !== 'date' && column.type !== 'datetime' ? text : undefined;
  if (column.name === entity.primaryField) {
    return (
      <td title={title}>
        <Link to={`/data/${entity.name}/${record.id}`} className="strong">
          {text || <span className="muted">(no {column.label.toLowerCase()})</span>}
        </Link>
      </td>
    );
  }
  if (column.type === 'lookup' && value && typeof value === 'object' && column.target) {
    const id = (value as { id: string }).id;
    return (
      <td title={title}>
        <Link to={`/data/${column.target.name}/${id}`}>{text}</Link>
      </td>
    );
  }
  if (column.type === 'url' && typeof value === 'string') {
    return (
      <td title={title}>
        <a href={value} target="_blank" rel="noreferrer noopener">
          {text}
        </a>
      </td>
    );
  }
  const className =
    [column.numeric ? 'num' : '', column.name === 'id' ? 'mono' : ''].filter(Boolean).join(' ') || undefined;
  return (
    <td className={className} title={title}>
      <ValueText type={column.type} value={value} options={column.options} primary={column.target?.primaryField} />
    </td>
  );
}
