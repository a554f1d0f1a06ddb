"""Time one training epoch of an MLP 784-256-10 on 55,000 examples, optlib vs. PyTorch.

    python benchmarks/bench_mlp_epoch.py                 # optlib only
    python benchmarks/bench_mlp_epoch.py --epochs 5 --threads 2

The problem is ``optlib.data.make_digits(size=28)`` (55,000 float32 images of 784
pixels, 10 classes). The model is Linear(784, 256), ReLU, Linear(256, 10) with
softmax cross-entropy, trained by Adam (lr 1e-3, torch defaults) in mini-batches of
128, reshuffled every epoch, float32 throughout.

* optlib: ``optlib.train.loop.fit``; the epoch time is fit's training clock (the
  per-epoch evaluation is excluded).
* PyTorch (only when ``import torch`` works; it is not a dependency of the course):
  the same model, initial weights, data order and loop -- index a batch, forward,
  ``cross_entropy``, ``backward``, ``Adam.step`` (torch's default CPU code path).

Both libraries get the same number of threads k (default: 1, then 2):
``torch.set_num_threads(k)`` and ``threadpoolctl.threadpool_limits(k)`` for NumPy's
OpenBLAS. The runs alternate epoch by epoch so that both see the same machine load;
the best epoch of each is reported (the least disturbed by other processes), with
the median beside it, and the load average is printed first.

On a machine whose cores are busy with other work, OpenBLAS's worker threads
busy-wait for their next job and compete with the main thread for the CPU, which
can make the multi-threaded NumPy numbers many times worse than the single-threaded
ones (PyTorch's thread pool suffers less). If you see that, compare at ``--threads 1``
or shorten OpenBLAS's spin with the environment variable ``OPENBLAS_THREAD_TIMEOUT=4``.
"""
import argparse
import os
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from optlib.data import make_digits
from optlib.nn import MLP
from optlib.nn.losses import softmax_cross_entropy
from optlib.optim import Adam
from optlib.train.loop import fit

SIZES = (784, 256, 10)
BATCH, LR = 128, 1e-3


def optlib_runner(data, seed):
    """Returns a function that trains one more epoch and returns its seconds."""
    model = MLP(SIZES, seed=seed)
    optimizer = Adam(lr=LR)
    epoch = [0]

    def run():
        epoch[0] += 1
        history = fit(model, softmax_cross_entropy, optimizer, data.X_train, data.y_train,
                      epochs=1, batch_size=BATCH, seed=seed + epoch[0], progress=False)
        return history.epoch_time[-1]

    return model, run


def torch_runner(torch, data, weights, seed):
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    with torch.no_grad():                       # same initial weights as the optlib model
        for name, p in model.state_dict().items():
            p.copy_(torch.from_numpy(weights[name]))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    X, y = torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)
    epoch = [0]

    def run():
        epoch[0] += 1
        order = torch.from_numpy(np.random.default_rng(seed + epoch[0]).permutation(len(X)))
        start = time.perf_counter()
        for i in range(0, len(X), BATCH):
            idx = order[i:i + BATCH]
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start

    return run


def compare(data, threads, epochs, torch):
    """Best and median seconds per epoch for each library at one thread count."""
    model, run_optlib = optlib_runner(data, seed=0)
    runners = {"optlib": run_optlib}
    if torch is not None:
        torch.set_num_threads(threads)
        weights = {k: v.copy() for k, v in model.state_dict().items()}
        runners["torch"] = torch_runner(torch, data, weights, seed=0)
    times = {name: [] for name in runners}
    with threadpool_limits(limits=threads):
        for run in runners.values():            # warm-up epoch: allocations, thread start-up
            run()
        for _ in range(epochs):
            for name, run in runners.items():
                times[name].append(run())
    return {name: (min(ts), statistics.median(ts)) for name, ts in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="epochs timed per library")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to compare (same for NumPy's BLAS and torch)")
    parser.add_argument("--n", type=int, default=55_000, help="training examples")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    data = make_digits(n=args.n, size=28, seed=0)
    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, softmax cross-entropy, Adam, batch {BATCH}, "
          f"float32, {args.n:,} examples; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch is not None else " (torch not installed)"))
    for k in args.threads:
        result = compare(data, k, args.epochs, torch)
        line = "  ".join(f"{name} {best:.3f} s (median {median:.3f})"
                         for name, (best, median) in result.items())
        if torch is not None:
            line += f"  ratio optlib/torch {result['optlib'][0] / result['torch'][0]:.2f}"
        print(f"{k} thread(s): {line}", flush=True)
    if torch is not None:
        print("seconds per epoch, best of", args.epochs, "epochs; ratio < 1: optlib is faster")


if __name__ == "__main__":
    main()
