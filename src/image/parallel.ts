import { ContainerError } from "../runtime/errors";

// Work on items a few at a time (layers of a pull or a push): at most `limit` at once.
// The first failure stops new items from starting and aborts `signal`, which the items
// running watch; the failure is thrown once every item has ended, so that nothing (a
// layer being committed, a lock, a temp dir) outlives the call and the clean-up after it.
export async function inParallel<T>(items: T[], limit: number, work: (item: T, signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failure) {
      try {
        await work(items[next++]!, stop.signal);
      } catch (e) {
        if (!failure) {
          failure = { error: e };
          stop.abort();
        }
      }
    }
  });
  await Promise.all(runners);
  if (failure) throw failure.error;
}

/** What an item stopped because another failed throws; never the error reported. */
export class Cancelled extends ContainerError {
  constructor() {
    super("cancelled: another item failed");
  }
}

/** `source`, ending with Cancelled at the first chunk after `signal` aborts. */
export async function* untilAborted<C>(source: AsyncIterable<C>, signal: AbortSignal | undefined): AsyncGenerator<C> {
  for await (const chunk of source) {
    if (signal?.aborted) throw new Cancelled();
    yield chunk;
  }
}
