/**
 * Group commit: one statement at a time, each carrying every item that
 * arrived while the previous one ran. Alone, an item runs at once (no timer,
 * no added latency); under load, fifty concurrent items share one round trip
 * and one commit instead of queueing for fifty. Each caller's promise settles
 * only when the statement that carried its item has returned, so nothing is
 * acknowledged before it is in the database.
 */
export type BatchWork<Item, Result> = (items: readonly Item[]) => Promise<readonly Result[]>;

interface Waiting<Item, Result> {
  item: Item;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export function groupCommit<Item, Result>(
  work: BatchWork<Item, Result>,
  maxBatch: number,
): (item: Item) => Promise<Result> {
  const queue: Waiting<Item, Result>[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        const results = await work(batch.map((waiting) => waiting.item));
        if (results.length !== batch.length) {
          throw new Error(`a batch of ${batch.length} items returned ${results.length} results`);
        }
        for (const [index, result] of results.entries()) batch[index]?.resolve(result);
      } catch (error) {
        for (const waiting of batch) waiting.reject(error);
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<Result>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
