/** A list the page loads from the API: its data (once loaded), the problem of the last load, and reload. */
import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { toProblem } from '../api.ts';
import type { Problem } from '../types.ts';

export interface Resource<T> {
  data: T | undefined;
  problem: Problem | undefined;
  reload(): Promise<void>;
  /** Replaces the data in place (after a write answered the new state). */
  set: Dispatch<SetStateAction<T | undefined>>;
}

export function useResource<T>(load: () => Promise<T>): Resource<T> {
  const [data, set] = useState<T>();
  const [problem, setProblem] = useState<Problem>();
  const reload = useCallback(async () => {
    try {
      set(await load());
      setProblem(undefined);
    } catch (error) {
      setProblem(toProblem(error));
    }
  }, [load]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, problem, reload, set };
}
