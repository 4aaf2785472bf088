// The one piece of node:async_hooks the cost meter uses (workerd provides it; the project has no @types/node).
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, fn: () => R): R;
  }
}
