"""Forward + backward of `relative_projection` against a plain matmul of the same shapes, measured side by side.

Each repeat runs every variant once, in turn (interleaved), so that load on a shared machine hits all of them
alike; the table reports medians and the ratio to the matmul. The upstream gradient is a fixed dense (n, k)
tensor; `x` requires a gradient, the anchors do not (they are re-encoded without gradient in training).
Usage: python benchmarks/bench_relative.py [--repeats N] [--threads T] [--quick]
"""
import argparse, platform, statistics, sys, time, os
from pathlib import Path
import torch
from relrep_nb.relative import relative_projection

def run(shapes, repeats, warmup=2):
    rows = []
    for n, d, k in shapes:
        g = torch.Generator().manual_seed(0)
        x, a, go = torch.randn(n, d, generator=g), torch.randn(k, d, generator=g), torch.randn(n, k, generator=g)
        def matmul():
            xr = x.detach().requires_grad_(); (xr @ a.T).backward(go)
        def make(**kw):
            def f():
                xr = x.detach().requires_grad_(); relative_projection(xr, a, **kw).backward(go)
            return f
        variants = dict(matmul=matmul, vanilla=make(robust=False), robust=make(robust=True),
                        robust_autograd=make(robust=True, fused=False))
        times = {name: [] for name in variants}
        for i in range(warmup + repeats):
            for name, f in variants.items():
                t0 = time.perf_counter(); f(); dt = time.perf_counter() - t0
                if i >= warmup: times[name].append(dt)
        med = {name: statistics.median(ts) for name, ts in times.items()}
        rows.append((n, d, k, med))
        print(f"n={n} d={d} k={k}: " + ", ".join(f"{nm} {t*1e3:.2f} ms" for nm, t in med.items()), file=sys.stderr)
    return rows

def table(rows):
    out = ["| batch | d | k | matmul (ms) | vanilla / matmul | robust / matmul | robust, plain autograd / matmul |",
           "|---:|---:|---:|---:|---:|---:|---:|"]
    for n, d, k, m in rows:
        b = m['matmul']
        out.append(f"| {n} | {d} | {k} | {b*1e3:.2f} | {m['vanilla']/b:.2f} | {m['robust']/b:.2f} | {m['robust_autograd']/b:.2f} |")
    return "\n".join(out)

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument('--repeats', type=int, default=9)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--quick', action='store_true', help='a smaller grid')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    batches = [256, 1024, 4096] if not args.quick else [256, 1024]
    shapes = [(n, d, k) for n in batches for d in (384, 768) for k in (300, 768, 1536)]
    rows = run(shapes, args.repeats)
    cmd = "python benchmarks/bench_relative.py " + " ".join(sys.argv[1:])
    info = (f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores visible, "
            f"{args.threads} torch thread(s), float32, CPU; medians of {args.repeats} interleaved repeats")
    md = "\n".join(["# relative_projection: forward + backward against a plain matmul", "",
        f"Command: `{cmd.strip()}`", "", f"Machine: {info}", "",
        "Each row times `x @ anchors.T` and the projections on the same (n, d) batch and (k, d) anchors, forward "
        "and backward with a fixed dense upstream gradient; `x` requires a gradient, the anchors do not. "
        "Targets: vanilla at most 1.2x and robust at most 1.3x the matmul at batch >= 1024.", "", table(rows), ""])
    print(md)
    Path(__file__).parent.joinpath('results').mkdir(exist_ok=True)
    Path(__file__).parent.joinpath('results', 'relative.md').write_text(md)
