import { after, before } from "node:test";

// A prefix no other store, run or engineer uses: this run's random id and a counter.
const run = Math.random().toString(36).slice(2, 10);
let count = 0;
export const freshPrefix = (name = "row") => `polykv-test:${run}:${name}:${++count}:`;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A fresh store for one describe() block, cleared and closed afterwards.
export function useStore(make) {
  const box = {};
  before(async () => {
    box.store = await make();
  });
  after(async () => {
    await box.store.clear();
    await box.store.close();
  });
  return box;
}

export const sorted = (list) => [...list].sort();
export const sortedEntries = (list) => [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

// Runs `attempt` (which writes a short-lived record, then reads) until one run
// finishes within `windowMs` of its start, and returns that run's result. A loaded
// machine may stall a run past the record's lifetime; such a run proves nothing
// either way, so it is retried. Fails when no run fits the window.
export async function withinWindow(windowMs, attempt, tries = 20) {
  for (let i = 0; i < tries; i += 1) {
    const start = performance.now();
    const result = await attempt(i);
    if (performance.now() - start < windowMs) return result;
  }
  throw new Error(`no attempt finished within ${windowMs} ms in ${tries} tries`);
}
