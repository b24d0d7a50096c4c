import { after, before } from "node:test";

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
