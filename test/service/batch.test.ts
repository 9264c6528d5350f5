/** Group commit (src/service/db/batch.ts): who shares a statement, and who learns what it answered. */
import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/service/db/batch.js';

/** A batch worker whose statements finish only when the test says so. */
function controlledWork() {
  const batches: number[][] = [];
  const finish: Array<(error?: Error) => void> = [];
  const work = (items: readonly number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push([...items]);
      finish.push((error) => (error ? reject(error) : resolve(items.map((item) => item * 10))));
    });
  return { batches, finish, work };
}

describe('groupCommit', () => {
  it('runs a lone item at once, and carries everything that arrived meanwhile in the next single batch', async () => {
    const { batches, finish, work } = controlledWork();
    const submit = groupCommit(work, 100);
    const first = submit(1);
    const waiting = [submit(2), submit(3), submit(4)];
    expect(batches).toEqual([[1]]);
    finish[0]?.();
    expect(await first).toBe(10);
    await Promise.resolve();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    finish[1]?.();
    expect(await Promise.all(waiting)).toEqual([20, 30, 40]);
  });

  it('caps a batch, and a failed batch rejects its own items only', async () => {
    const { batches, finish, work } = controlledWork();
    const submit = groupCommit(work, 2);
    const outcomes = [1, 2, 3, 4].map((item) => submit(item).then(String, (error: Error) => error.message));
    finish[0]?.();
    await new Promise((resolve) => setImmediate(resolve));
    finish[1]?.(new Error('statement failed'));
    await new Promise((resolve) => setImmediate(resolve));
    finish[2]?.();
    expect(await Promise.all(outcomes)).toEqual(['10', 'statement failed', 'statement failed', '40']);
    expect(batches).toEqual([[1], [2, 3], [4]]);
  });

  it('refuses results that do not match the batch one to one', async () => {
    const submit = groupCommit(async (items: readonly number[]) => items.slice(1), 10);
    await expect(submit(1)).rejects.toThrow('a batch of 1 items returned 0 results');
  });
});
