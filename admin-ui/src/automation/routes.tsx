/**
 * The automation pages: rules (with the metadata privilege), the suggestions inbox and
 * notifications (everyone's own).
 */
import type { ReactNode } from 'react';
import { match } from '../router.tsx';
import type { Permissions } from '../security/permissions.ts';
import { Forbidden } from '../security/routes.tsx';
import { NotificationsPage } from './NotificationsPage.tsx';
import { RuleBuilderPage } from './RuleBuilder.tsx';
import { RulesPage } from './RulesPage.tsx';
import { SuggestionsPage } from './SuggestionsPage.tsx';

/** The page of an automation path (undefined: not one). */
export function automationPage(path: string, can: Permissions): ReactNode | undefined {
  if (path === '/suggestions') return <SuggestionsPage />;
  if (path === '/notifications') return <NotificationsPage />;
  if (path !== '/automation' && !path.startsWith('/automation/')) return undefined;
  if (!can.metadata) return <Forbidden what="manage automation rules" />;
  let m: Record<string, string> | undefined;
  if (path === '/automation') return <RulesPage />;
  if (path === '/automation/new') return <RuleBuilderPage key="new" />;
  if ((m = match('/automation/:id', path))) return <RuleBuilderPage key={m.id} id={m.id} />;
  if ((m = match('/automation/:id/runs', path))) return <RuleBuilderPage key={m.id} id={m.id} tab="runs" />;
  return undefined;
}
