// Work on items a few at a time (layers of a pull or a push): at most `limit` at once.
// The first failure is thrown at once and no new item starts after it; items already
// running are left to end on their own (the command is about to exit anyway).
export async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failed) {
      try {
        await work(items[next++]!);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  });
  await Promise.all(runners);
}
