"""Time one optimizer step on 1M float32 parameters held in 20 arrays.

    python benchmarks/bench_optimizers.py            # optlib only
    python benchmarks/bench_optimizers.py --repeat 50

When PyTorch is importable, the same step of ``torch.optim`` (single-tensor path,
``foreach=False``, one thread) is timed side by side in the same run, interleaved
round by round so that both see the same machine load, and the ratio is printed
(< 1 means optlib is faster). PyTorch is not a dependency of the course.
"""
import argparse
import functools
import time

import numpy as np
from threadpoolctl import threadpool_limits

import optlib

SIZE, ARRAYS = 1_000_000, 20
CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("Adagrad", dict()),
    ("RMSprop", dict()),
    ("RMSprop", dict(momentum=0.9, centered=True)),
    ("Adadelta", dict()),
    ("Adam", dict()),
    ("Adam", dict(amsgrad=True)),
    ("AdamW", dict()),
    ("Adamax", dict()),
    ("NAdam", dict()),
    ("RAdam", dict()),
]


def _arrays(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(SIZE // ARRAYS, dtype=np.float32) for _ in range(ARRAYS)]


def _best_of(step, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="steps timed per case (best is kept)")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    # One thread for NumPy's BLAS too (optlib's SGD step calls BLAS axpy): a fair pair,
    # and no BLAS worker threads spinning against the main thread on a busy machine.
    threadpool_limits(limits=1)

    print(f"{SIZE:,} float32 parameters in {ARRAYS} arrays; best of {args.repeat} steps")
    header = f"{'optimizer':34s} {'optlib ms':>10s}"
    print(header + (f" {'torch ms':>10s} {'ratio':>7s}" if torch else "  (torch not installed)"))
    for name, hyper in CASES:
        params, grads = _arrays(0), _arrays(1)
        opt = getattr(optlib, name)(**hyper)
        opt.step(params, grads)          # warm-up: allocates the state
        ours = functools.partial(opt.step, params, grads)
        label = name + ("(" + ", ".join(f"{k}={v}" for k, v in hyper.items()) + ")" if hyper else "")
        if torch is None:
            print(f"{label:34s} {1e3 * _best_of(ours, args.repeat):10.2f}")
            continue
        tparams = [torch.from_numpy(a) for a in _arrays(0)]
        for p, g in zip(tparams, _arrays(1)):
            p.grad = torch.from_numpy(g)
        topt = getattr(torch.optim, name)(tparams, foreach=False, **hyper)
        topt.step()
        t_ours, t_theirs = [], []
        for _ in range(args.repeat):     # interleave so both see the same load
            t_ours.append(_best_of(ours, 1))
            t_theirs.append(_best_of(topt.step, 1))
        a, b = min(t_ours), min(t_theirs)
        print(f"{label:34s} {1e3 * a:10.2f} {1e3 * b:10.2f} {a / b:7.2f}")


if __name__ == "__main__":
    main()
