/** FifoQueue is a first-in first-out queue with O(1) push and shift that lets go of what it handed out. */
export interface FifoQueue<T> {
  push(item: T): void;
  shift(): T | undefined;
  /** peek returns the first `count` items, in order, without taking them. */
  peek(count: number): T[];
  length(): number;
  clear(): void;
}

export function createFifoQueue<T>(): FifoQueue<T> {
  let items: Array<T | undefined> = [];
  let head = 0;
  return {
    push(item) {
      items.push(item);
    },
    shift() {
      if (head === items.length) {
        return undefined;
      }
      const item = items[head];
      items[head] = undefined;
      head += 1;
      if (head === items.length) {
        items = [];
        head = 0;
      } else if (head >= 1024 && head * 2 >= items.length) {
        // Compact now and then so a long-lived queue does not keep its consumed prefix.
        items = items.slice(head);
        head = 0;
      }
      return item;
    },
    peek: (count) => items.slice(head, head + count) as T[],
    length: () => items.length - head,
    clear() {
      items = [];
      head = 0;
    },
  };
}
