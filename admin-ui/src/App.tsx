/**
 * The shell: sidebar navigation (model pages, entities' data) and the routed page. Below 700 px
 * the sidebar folds away behind a menu button and the page takes the whole width. Nothing shows
 * before sign-in (security/SessionGate.tsx); then only what the user's roles allow.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { NotificationBell } from './automation/NotificationBell.tsx';
import { automationPage } from './automation/routes.tsx';
import { CatalogProvider, useCatalogState } from './catalog.tsx';
import { OverlayProvider } from './components/overlays.tsx';
import { EmptyState, Loading, ProblemBanner } from './components/ui.tsx';
import { DataBrowser } from './records/DataBrowser.tsx';
import { RecordPage } from './records/RecordPage.tsx';
import { JobsPage } from './pipeline/JobsPage.tsx';
import { PluginsPage } from './pipeline/PluginsPage.tsx';
import { WebhooksPage } from './pipeline/WebhooksPage.tsx';
import { ChoiceSetsPage } from './designer/ChoiceSetsPage.tsx';
import { EntityCreate } from './designer/EntityCreate.tsx';
import { EntityDesigner, type DesignerTab } from './designer/EntityDesigner.tsx';
import { EntityList } from './designer/EntityList.tsx';
import { FieldEditor } from './designer/FieldEditor.tsx';
import { RelationshipsPage } from './designer/RelationshipsPage.tsx';
import { relationshipPage } from './relationships/routes.tsx';
import { Link, match, navigate, useLocation, useTitle } from './router.tsx';
import { AccountMenu } from './security/AccountMenu.tsx';
import type { Permissions } from './security/permissions.ts';
import { Forbidden, securityPage } from './security/routes.tsx';
import { useCan } from './security/session.tsx';
import { SessionGate } from './security/SessionGate.tsx';

export function App() {
  return (
    <SessionGate>
      <CatalogProvider>
        <OverlayProvider>
          <Shell />
        </OverlayProvider>
      </CatalogProvider>
    </SessionGate>
  );
}

function Shell() {
  const { path } = useLocation();
  const { catalog, problem, refresh } = useCatalogState();
  const mainRef = useRef<HTMLElement>(null);
  const menuRef = useRef<HTMLButtonElement>(null);
  const previousPath = useRef(path);
  // narrow screens only (CSS shows the sidebar regardless on wide ones)
  const [menuOpen, setMenuOpen] = useState(false);

  // after moving to another page, keyboard and screen-reader users start at its content
  useEffect(() => {
    if (previousPath.current === path) return;
    previousPath.current = path;
    setMenuOpen(false);
    mainRef.current?.focus({ preventScroll: true });
  }, [path]);

  // an opened menu takes the focus (its first link), so keyboard users land in it
  useEffect(() => {
    if (menuOpen) document.querySelector<HTMLElement>('#sidebar a')?.focus();
  }, [menuOpen]);

  const closeMenu = () => {
    setMenuOpen(false);
    menuRef.current?.focus();
  };

  return (
    <div
      className={`app${menuOpen ? ' menu-open' : ''}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && menuOpen) closeMenu();
      }}
    >
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-button"
          ref={menuRef}
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <span className="menu-icon" aria-hidden="true" />
          Menu
        </button>
        <Link to="/entities" className="brand">
          <span className="brand-mark" aria-hidden="true">
            x
          </span>
          xrm admin
        </Link>
        <NotificationBell />
        <AccountMenu />
      </header>
      <Sidebar path={path} onNavigate={() => setMenuOpen(false)} />
      {menuOpen ? <div className="menu-backdrop" aria-hidden="true" onClick={closeMenu} /> : null}
      <main id="main" className="main" tabIndex={-1} ref={mainRef}>
        {catalog ? (
          <Page path={path} />
        ) : problem ? (
          <ProblemBanner problem={problem} onRetry={() => void refresh()} />
        ) : (
          <Loading label="Loading the model…" />
        )}
      </main>
    </div>
  );
}

/** What a sidebar link needs of the user's privileges (none: every signed-in user). */
type NavNeed = 'users' | 'plugins' | 'metadata';

/**
 * The sidebar's fixed sections: where the model is designed, the platform's moving parts,
 * automation (its rules; everyone's suggestions inbox, today's relationships and the activity
 * import) and security; a link needing a privilege the user lacks is not shown.
 */
const NAV_SECTIONS: readonly { label: string; links: readonly (readonly [string, string, NavNeed?])[] }[] = [
  {
    label: 'Model',
    links: [
      ['/entities', 'Entities'],
      ['/relationships', 'Relationships'],
      ['/choice-sets', 'Choice sets'],
    ],
  },
  {
    label: 'Platform',
    links: [
      ['/plugins', 'Plugins', 'plugins'],
      ['/jobs', 'Jobs', 'plugins'],
      ['/webhooks', 'Webhooks', 'plugins'],
    ],
  },
  {
    label: 'Automation',
    links: [
      ['/automation', 'Rules', 'metadata'],
      ['/suggestions', 'Suggestions'],
      ['/today', 'Today'],
      ['/import', 'Import activities'],
    ],
  },
  {
    label: 'Security',
    links: [
      ['/security/users', 'Users', 'users'],
      ['/security/teams', 'Teams', 'users'],
      ['/security/roles', 'Roles', 'users'],
      ['/security/api-keys', 'API keys'],
    ],
  },
];

function Sidebar({ path, onNavigate }: { path: string; onNavigate(): void }) {
  const { catalog } = useCatalogState();
  const can = useCan();
  const [filter, setFilter] = useState('');
  const entities = useMemo(() => {
    const q = filter.trim().toLowerCase();
    return (catalog?.entities ?? []).filter(
      (e) =>
        !q ||
        e.name.includes(q) ||
        e.displayName.toLowerCase().includes(q) ||
        e.pluralDisplayName.toLowerCase().includes(q),
    );
  }, [catalog, filter]);
  const current = (prefix: string) => (path === prefix || path.startsWith(`${prefix}/`) ? 'page' : undefined);

  return (
    <aside
      className="sidebar"
      id="sidebar"
      onClick={(e) => {
        // following a link closes the folded menu, even to the page already shown
        if ((e.target as Element).closest('a')) onNavigate();
      }}
    >
      <Link to="/entities" className="brand">
        <span className="brand-mark" aria-hidden="true">
          x
        </span>
        xrm admin
      </Link>
      {NAV_SECTIONS.map((section) => {
        const links = section.links.filter(([, , need]) => !need || can[need]);
        return links.length ? (
          <nav aria-label={section.label} key={section.label}>
            <h2 className="nav-heading">{section.label}</h2>
            <ul className="nav-list">
              {links.map(([to, label]) => (
                <li key={to}>
                  <Link to={to} aria-current={current(to)}>
                    {label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        ) : null;
      })}
      <nav aria-label="Data" className="nav-data">
        <h2 className="nav-heading">Data</h2>
        <label htmlFor="nav-filter" className="visually-hidden">
          Filter entities
        </label>
        <input
          id="nav-filter"
          type="search"
          className="nav-filter"
          placeholder="Filter entities…"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
        <ul className="nav-list">
          {entities.map((e) => (
            <li key={e.name}>
              <Link to={`/data/${e.name}`} aria-current={current(`/data/${e.name}`)}>
                {e.pluralDisplayName}
              </Link>
            </li>
          ))}
          {catalog && !entities.length ? (
            <li className="nav-empty">{filter ? 'No match' : 'No entities yet'}</li>
          ) : null}
        </ul>
      </nav>
      <footer className="sidebar-footer">
        <a href="/docs">API reference</a>
        <a href="/openapi.json">OpenAPI</a>
        <a href="/graphiql">GraphQL</a>
      </footer>
    </aside>
  );
}

const DESIGNER_TABS: DesignerTab[] = ['fields', 'keys', 'relationships', 'history', 'settings'];

function Page({ path }: { path: string }) {
  const can = useCan();
  // pages that change the model, run the platform or create records, for those whose roles allow it
  if (!can.metadata && (path === '/entities/new' || /^\/entities\/[^/]+\/(fields\/|settings$)/.test(path)))
    return <Forbidden what="change the model" />;
  if (!can.plugins && ['/plugins', '/jobs', '/webhooks'].includes(path))
    return <Forbidden what="manage plugins, jobs and webhooks" />;
  const creating = match('/data/:entity/new', path);
  if (creating && !can.allows(creating.entity!, 'create'))
    return <Forbidden what={`create ${creating.entity} records`} />;
  return routedPage(path, can);
}

function routedPage(path: string, can: Permissions) {
  let m: Record<string, string> | undefined;
  const security = securityPage(path, can);
  if (security !== undefined) return security;
  const automation = automationPage(path, can);
  if (automation !== undefined) return automation;
  const relationships = relationshipPage(path);
  if (relationships !== undefined) return relationships;
  if (path === '/') return <Redirect to="/entities" />;
  if (path === '/entities') return <EntityList />;
  if (path === '/entities/new') return <EntityCreate />;
  if ((m = match('/entities/:name', path))) return <EntityDesigner key={m.name} name={m.name!} tab="fields" />;
  if ((m = match('/entities/:name/fields/new', path)))
    return <FieldEditor key={`${m.name}:new`} entityName={m.name!} />;
  if ((m = match('/entities/:name/fields/:field/edit', path)))
    return <FieldEditor key={`${m.name}:${m.field}`} entityName={m.name!} fieldName={m.field} />;
  if ((m = match('/entities/:name/:tab', path)) && DESIGNER_TABS.includes(m.tab as DesignerTab)) {
    return <EntityDesigner key={m.name} name={m.name!} tab={m.tab as DesignerTab} />;
  }
  if (path === '/relationships') return <RelationshipsPage />;
  if (path === '/choice-sets') return <ChoiceSetsPage />;
  if (path === '/plugins') return <PluginsPage />;
  if (path === '/jobs') return <JobsPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  if ((m = match('/data/:entity', path))) return <DataBrowser key={m.entity} entityName={m.entity!} />;
  if ((m = match('/data/:entity/new', path))) return <RecordPage key={`${m.entity}:new`} entityName={m.entity!} />;
  if ((m = match('/data/:entity/:id', path)))
    return <RecordPage key={`${m.entity}:${m.id}`} entityName={m.entity!} id={m.id} />;
  if ((m = match('/data/:entity/:id/history', path)))
    return <RecordPage key={`${m.entity}:${m.id}`} entityName={m.entity!} id={m.id} tab="history" />;
  return <NotFound />;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function NotFound() {
  useTitle('Not found');
  return (
    <EmptyState title="This page does not exist">
      <p>
        <Link to="/entities">Go to the entities</Link>
      </p>
    </EmptyState>
  );
}
