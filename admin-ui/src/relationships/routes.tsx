/** The relationship pages: today's list and the activity import (every signed-in user's). */
import type { ReactNode } from 'react';
import { ImportPage } from './ImportPage.tsx';
import { TodayPage } from './TodayPage.tsx';

/** The page of a relationship path (undefined: not one). */
export function relationshipPage(path: string): ReactNode | undefined {
  if (path === '/today') return <TodayPage />;
  if (path === '/import') return <ImportPage />;
  return undefined;
}
