"""Timing measurements that a reader reruns on their own machine.

Timings are facts about one machine at one moment, so the chapters show them and state
what they showed when the page was built; tests only check their shape, never their
values (COURSE.md §7).
"""
import time

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["best_time", "time_per_example", "neighbour_ratios"]


def best_time(fn, repeat=5, min_seconds=0.02, clock=time.perf_counter):
    """The fastest of ``repeat`` timings of ``fn()``, in seconds per call.

    Each timing calls ``fn`` as many times as it takes to last ``min_seconds`` (so the
    clock's resolution does not matter) and divides. The minimum, not the mean, is the
    figure least disturbed by whatever else the machine is doing. ``clock`` is
    wall-clock time by default; ``time.thread_time`` counts only the CPU time of the
    calling thread, which other programs on a busy machine barely disturb.
    """
    fn()                                             # warm-up: caches, allocations
    calls, start = 0, clock()
    while clock() - start < min_seconds:
        fn()
        calls += 1
    best = (clock() - start) / calls
    for _ in range(repeat - 1):
        start = clock()
        for _ in range(calls):
            fn()
        best = min(best, (clock() - start) / calls)
    return best


def time_per_example(model, loss_fn, X, y, batch_sizes, repeat=5, min_seconds=0.02, threads=1):
    """Seconds per example of one training step (forward, loss, backward) for each B.

    Parameters
    ----------
    model : ``Module``
        An ``optlib.nn`` model.
    loss_fn : callable
        ``loss_fn(out, target) -> (loss, dout)``.
    X, y : ``ndarray``
        At least ``max(batch_sizes)`` examples; the first B are used.
    batch_sizes : ``sequence`` of int
        The batch sizes :math:`B` to time.
    threads : int or None
        BLAS threads during the measurement. One thread (default) gives figures that
        repeat: the work is timed by the CPU time of the one thread doing it, so other
        programs on the machine hardly change it. ``None`` leaves the library's default
        and times wall-clock seconds, which on a busy machine can swing by orders of
        magnitude because idle BLAS threads spin while they wait for work.

    Returns
    -------
    ``ndarray``
        Seconds per example, one entry per batch size.
    """
    if max(batch_sizes) > len(X):
        raise ValueError(f"batch_sizes must not exceed len(X) = {len(X)}, got {max(batch_sizes)}")

    def one_step(xb, yb):
        _, dout = loss_fn(model.forward(xb), yb)
        model.backward(dout)

    batches = [(np.ascontiguousarray(X[:b]), y[:b]) for b in batch_sizes]
    best = np.full(len(batch_sizes), np.inf)
    # Rounds over all sizes, keeping each size's best: a burst of load from another
    # program then spoils one round of every size, not every round of one size.
    clock = time.thread_time if threads == 1 else time.perf_counter
    with threadpool_limits(limits=threads):
        for _ in range(repeat):
            for i, (xb, yb) in enumerate(batches):
                seconds = best_time(lambda xb=xb, yb=yb: one_step(xb, yb), repeat=1,
                                    min_seconds=min_seconds, clock=clock)
                best[i] = min(best[i], seconds / len(xb))
    return best


def neighbour_ratios(batch_sizes, values, centres):
    """For each size in ``centres``: its value divided by the mean of its two neighbours.

    The neighbours are the next smaller and next larger batch sizes in
    ``batch_sizes``. A ratio clearly below 1 would mean the centre size (say a power of
    two) is specially fast; a ratio near 1 means it is not.
    """
    batch_sizes = list(batch_sizes)
    ratios = []
    for c in centres:
        i = batch_sizes.index(c)
        if i == 0 or i == len(batch_sizes) - 1:
            raise ValueError(f"centre {c} needs a smaller and a larger neighbour in batch_sizes")
        ratios.append(values[i] / ((values[i - 1] + values[i + 1]) / 2))
    return np.array(ratios)
