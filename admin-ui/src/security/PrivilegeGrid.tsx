/**
 * A role's privileges as a grid, like Dataverse's security role editor: a row per entity, a column
 * per privilege, each cell a level (none, own records, own team's, all) that a click moves to the
 * next; a row's select sets all eight at once.
 */
import type { EntityDef, EntityPrivilege, PrivilegeLevel } from '../types.ts';
import { LEVEL_LABELS, LEVELS, PRIVILEGE_LABELS, PRIVILEGES } from './permissions.ts';
import { emptyRow, nextLevel, type LevelRow } from './role-form.ts';

export function PrivilegeGrid({
  entities,
  grid,
  onChange,
  readOnly,
}: {
  entities: EntityDef[];
  grid: Record<string, LevelRow>;
  onChange(entity: string, levels: LevelRow): void;
  readOnly?: boolean;
}) {
  // entities of the model, then any the role names that the model no longer has
  const rows = [
    ...entities.map((e) => ({ name: e.name, label: e.displayName })),
    ...Object.keys(grid)
      .filter((name) => !entities.some((e) => e.name === name))
      .map((name) => ({ name, label: name })),
  ];
  const set = (entity: string, privilege: EntityPrivilege, level: PrivilegeLevel) =>
    onChange(entity, { ...(grid[entity] ?? emptyRow()), [privilege]: level });

  return (
    <>
      <div className="table-wrap">
        <table className="table table-row-heads privilege-grid" aria-label="Entity privileges">
          <thead>
            <tr>
              <th scope="col">Entity</th>
              {PRIVILEGES.map((p) => (
                <th key={p} scope="col" className="level-col">
                  {PRIVILEGE_LABELS[p]}
                </th>
              ))}
              <th scope="col">Whole row</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const levels = grid[row.name] ?? emptyRow();
              const uniform = PRIVILEGES.every((p) => levels[p] === levels.create) ? levels.create : '';
              return (
                <tr key={row.name}>
                  <th scope="row">
                    {row.label} <code className="muted">{row.name}</code>
                  </th>
                  {PRIVILEGES.map((p) => {
                    const level = levels[p];
                    const title = `${PRIVILEGE_LABELS[p]}: ${LEVEL_LABELS[level]}`;
                    return (
                      <td key={p} className="level-col">
                        <button
                          type="button"
                          className="level-cell"
                          disabled={readOnly}
                          title={readOnly ? title : `${title} (click: next level)`}
                          onClick={() => set(row.name, p, nextLevel(level))}
                        >
                          <span className={`level level-${level}`} aria-hidden="true" />
                          <span className="visually-hidden">
                            {row.label} {PRIVILEGE_LABELS[p].toLowerCase()}: {LEVEL_LABELS[level]}
                          </span>
                        </button>
                      </td>
                    );
                  })}
                  <td>
                    <select
                      aria-label={`All privileges of ${row.label}`}
                      className="level-select"
                      disabled={readOnly}
                      value={uniform}
                      onChange={(e) => {
                        const level = e.target.value as PrivilegeLevel;
                        if (level)
                          onChange(row.name, Object.fromEntries(PRIVILEGES.map((p) => [p, level])) as LevelRow);
                      }}
                    >
                      {uniform ? null : <option value="">mixed</option>}
                      {LEVELS.map((l) => (
                        <option key={l} value={l}>
                          {LEVEL_LABELS[l]}
                        </option>
                      ))}
                    </select>
                  </td>
                </tr>
              );
            })}
            {rows.length === 0 ? (
              <tr>
                <td colSpan={PRIVILEGES.length + 2} className="muted">
                  No entities yet.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <ul className="level-legend" aria-label="Levels">
        {LEVELS.map((l) => (
          <li key={l}>
            <span className={`level level-${l}`} aria-hidden="true" /> {LEVEL_LABELS[l]}
          </li>
        ))}
      </ul>
    </>
  );
}
