// A debounce with a leading and a trailing edge (lodash's `debounce(fn, wait, {leading: true,
// trailing: true})`): a change after a quiet period goes out at once, and the changes that follow
// it within `quietMs` are coalesced into one emission of the newest value once `quietMs` pass
// without another. A lone edit therefore costs no debounce delay, while a burst (a `kubectl
// apply` of many objects, an editor's save) still compiles once more, with everything in it, at
// its end. The trailing emission opens a new window too, so a burst never emits more often than
// a trailing-only debounce would, plus its first value. The price is that the first value of a
// burst is emitted even when it is a transient (a file truncated before it is rewritten), which
// is why the compile pipeline uses it only when asked (CompileOptions.leadingEdge).
import { Observable, asyncScheduler } from 'rxjs';
import type { MonoTypeOperatorFunction, SchedulerLike, Subscription } from 'rxjs';

export function leadingDebounce<T>(
  quietMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let timer: Subscription | undefined;
      let pending: { readonly value: T } | undefined;
      // (Re)starts the window; when it closes with a value held back, emit it and open another.
      const arm = (): void => {
        timer?.unsubscribe();
        timer = scheduler.schedule(() => {
          timer = undefined;
          if (pending === undefined) return;
          const { value } = pending;
          pending = undefined;
          arm();
          subscriber.next(value);
        }, quietMs);
      };
      const inner = source.subscribe({
        next(value) {
          if (timer === undefined) {
            arm();
            subscriber.next(value);
          } else {
            pending = { value };
            arm();
          }
        },
        error(error: unknown) {
          subscriber.error(error);
        },
        complete() {
          timer?.unsubscribe();
          timer = undefined;
          if (pending !== undefined) subscriber.next(pending.value);
          pending = undefined;
          subscriber.complete();
        },
      });
      return () => {
        timer?.unsubscribe();
        inner.unsubscribe();
      };
    });
}
