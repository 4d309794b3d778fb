"""Forward + backward of the topological densification loss against gudhi, scipy and a lower bound, side by side.

For k classes of n points in d dimensions (one batch of k*n points with labels), every variant computes each
class's 0-dimensional death times and backpropagates sum |d - beta| to the points:
- ours: `topo_densification_loss` (all classes at once; on the CPU with numba: one batched Gram matmul, a compiled
  Prim over its rows, compiled edge lengths and backward; elsewhere the batched torch Prim; lengths always from differences);
- gudhi: per class, RipsComplex + persistence picks the tree (`flag_persistence_generators`), then the same torch
  length recomputation and backward (gudhi has no gradient of its own);
- scipy: per class, scipy's `minimum_spanning_tree` on the dense distance matrix picks the tree, same torch tail;
- lower bound: one batched distance matmul (k, n, d) x (k, d, n) plus one scan of the matrix (`amin`), forward only:
  any exact dense method does at least this much.
Each repeat runs every variant once, in turn (interleaved), so load on a shared machine hits all alike; the table
reports medians. A second part times one training step (forward, backward, AdamW) of a small head on a batch of
256 = 16 classes x 16 samples in d = 768, with and without the loss on its 768-d hidden layer.
Usage: python benchmarks/bench_topology.py [--threads T] [--k K] [--quick] [--device cpu|cuda]
"""
import argparse, platform, statistics, sys, time, os
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import gudhi
from scipy.sparse.csgraph import minimum_spanning_tree
import relrep_nb.topology as topology
from relrep_nb.topology import topo_densification_loss, _squared_distances

BETA = 1.0

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def _tail(z, y, edges_per_class):
    "Shared torch tail: lengths of the chosen edges with autograd, sum |d - beta|, backward."
    loss = 0.
    for c, (i, j) in enumerate(edges_per_class):
        zc = z[y == c]
        diff = zc[i] - zc[j]
        sq = (diff*diff).sum(-1); pos = sq > 0
        d = torch.where(pos, torch.where(pos, sq, 1.).sqrt(), 0.)
        loss = loss + (d - BETA).abs().sum()
    loss.backward()

def variants(k, n, d, dev):
    g = torch.Generator().manual_seed(0)
    z0 = torch.randn(k*n, d, generator=g).to(dev)
    y = torch.arange(k).repeat_interleave(n).to(dev)
    def ours():
        z = z0.detach().requires_grad_(); topo_densification_loss(z, y, BETA, reduction="sum").backward(); _sync(dev)
    def gudhi_():
        z = z0.detach().requires_grad_(); zn = z0.double().cpu().numpy(); edges = []
        for c in range(k):
            st = gudhi.RipsComplex(points=zn[c*n:(c+1)*n]).create_simplex_tree(max_dimension=1)
            st.compute_persistence(min_persistence=-1)
            e = st.flag_persistence_generators()[0]
            edges.append((torch.as_tensor(e[:, 1], device=dev), torch.as_tensor(e[:, 2], device=dev)))
        _tail(z, y, edges); _sync(dev)
    def scipy_():
        z = z0.detach().requires_grad_(); edges = []
        dist = _squared_distances(z0.view(k, n, d)).sqrt_()
        dist.diagonal(dim1=1, dim2=2).fill_(0.)
        dn = dist.cpu().numpy()
        for c in range(k):
            t = minimum_spanning_tree(dn[c]).tocoo()
            edges.append((torch.as_tensor(t.row, device=dev, dtype=torch.long), torch.as_tensor(t.col, device=dev, dtype=torch.long)))
        _tail(z, y, edges); _sync(dev)
    def lower_bound():
        x = z0.view(k, n, d)
        torch.bmm(x, x.transpose(1, 2)).amin(-1); _sync(dev)
    return dict(ours=ours, gudhi=gudhi_, scipy=scipy_, lower_bound=lower_bound)

def timeit(fs, repeats, warmup=1):
    times = {name: [] for name in fs}
    for i in range(warmup + repeats):
        for name, f in fs.items():
            t0 = time.perf_counter(); f(); dt = time.perf_counter() - t0
            if i >= warmup: times[name].append(dt)
    return {name: statistics.median(ts) for name, ts in times.items()}

def check_same(k, n, d, dev):
    "The variants agree: ours and gudhi give the same loss on the benchmark's data (a guard, not a timing)."
    g = torch.Generator().manual_seed(0)
    z0 = torch.randn(k*n, d, generator=g)
    ours = float(topo_densification_loss(z0.double(), torch.arange(k).repeat_interleave(n), BETA, reduction="sum"))
    ref = 0.
    for c in range(k):
        st = gudhi.RipsComplex(points=z0[c*n:(c+1)*n].double().numpy()).create_simplex_tree(max_dimension=1)
        ref += sum(abs(dd - BETA) for dim, (b, dd) in st.persistence(min_persistence=-1) if dim == 0 and np.isfinite(dd))
    assert abs(ours - ref) < 1e-8 * max(1, ref), (ours, ref)

def training_step(dev, repeats, classes=16, per_class=16, d=768, lam=0.02):
    "Median time of one step of a small head (Linear-ReLU-Linear, hidden 768) with and without the loss."
    g = torch.Generator().manual_seed(0)
    x = torch.randn(classes*per_class, d, generator=g).to(dev)
    y = torch.arange(classes).repeat_interleave(per_class).to(dev)
    torch.manual_seed(0)
    body, head = nn.Sequential(nn.Linear(d, d), nn.ReLU()).to(dev), nn.Linear(d, classes).to(dev)
    opt = torch.optim.AdamW(list(body.parameters()) + list(head.parameters()), lr=1e-4)
    def step(with_loss):
        def f():
            z = body(x); loss = F.cross_entropy(head(z), y)
            if with_loss: loss = loss + lam * topo_densification_loss(z, y, 3., reduction="sum")
            opt.zero_grad(); loss.backward(); opt.step(); _sync(dev)
        return f
    return timeit(dict(plain=step(False), with_loss=step(True)), repeats, warmup=3)

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--k', type=int, default=8, help='classes per batch')
    p.add_argument('--quick', action='store_true', help='n up to 256 only')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    check_same(args.k, 64, 32, dev)
    ns = [16, 64, 256] if args.quick else [16, 64, 256, 1024]
    rows, t_start = [], time.perf_counter()
    for n in ns:
        for d in (32, 384, 768):
            repeats = {16: 15, 64: 9, 256: 5, 1024: 2}[n]
            m = timeit(variants(args.k, n, d, dev), repeats)
            rows.append((n, d, m))
            print(f"k={args.k} n={n} d={d}: " + ", ".join(f"{nm} {t*1e3:.2f} ms" for nm, t in m.items()), file=sys.stderr)
    step = training_step(dev, repeats=20)
    print(f"training step: {step}", file=sys.stderr)
    wall = time.perf_counter() - t_start

    out = [f"| n | d | ours (ms) | gudhi (ms) | scipy MST (ms) | lower bound (ms) | gudhi / ours | scipy / ours | ours / lower bound |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, d, m in rows:
        o = m['ours']
        out.append(f"| {n} | {d} | {o*1e3:.2f} | {m['gudhi']*1e3:.1f} | {m['scipy']*1e3:.1f} | {m['lower_bound']*1e3:.2f} | "
                   f"{m['gudhi']/o:.1f} | {m['scipy']/o:.1f} | {o/m['lower_bound']:.2f} |")
    get = {(n, d): m for n, d, m in rows}
    t1 = get[(256, 768)]['gudhi'] / get[(256, 768)]['ours']
    lb = [(n, d, get[(n, d)]['ours'] / get[(n, d)]['lower_bound']) for n, d, _ in rows if n >= 256 and d >= 384]
    overhead = step['with_loss'] / step['plain'] - 1
    targets = [
        f"- ≥ 3× faster than gudhi at n = 256, d = 768: **{t1:.1f}×**, {'met' if t1 >= 3 else 'NOT met'}",
        f"- ≤ 1.5× the lower bound for n ≥ 256, d ≥ 384: " + ", ".join(f"n={n} d={d}: {r:.2f}×" for n, d, r in lb)
        + f"; {'met' if all(r <= 1.5 for *_, r in lb) else 'NOT met'}",
        f"- ≤ 15 % added to a training step (batch 256 = 16 × 16, d = 768): plain {step['plain']*1e3:.2f} ms, "
        f"with the loss {step['with_loss']*1e3:.2f} ms, **+{overhead*100:.1f} %**, {'met' if overhead <= 0.15 else 'NOT met'}",
    ]
    cmd = "python benchmarks/bench_topology.py " + " ".join(sys.argv[1:])
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.machine()) \
          if os.path.exists('/proc/cpuinfo') else platform.machine()
    where = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f"CPU ({cpu}), {os.cpu_count()} cores visible, {args.threads} torch thread(s)"
    md = "\n".join(["# Topological densification loss: forward + backward, side by side", "",
        f"Command: `{cmd.strip()}`", "",
        f"Machine: {where}; torch {torch.__version__}, gudhi {gudhi.__version__}; "
        f"{'numba ' + topology.numba.__version__ + ' (compiled CPU kernels)' if topology._use_compiled(torch.zeros(1, device=dev)) else 'pure-torch path'}; float32; "
        f"k = {args.k} classes of n points each; medians of interleaved repeats (15 at n = 16 down to 2 at n = 1024); "
        f"whole run {wall:.0f} s.", "",
        "ours = `topo_densification_loss(z, y, beta).backward()`; gudhi and scipy = their tree per class "
        "(a Python loop over classes, float64 for gudhi) then the same torch length recomputation and backward; "
        "lower bound = one batched distance matmul plus one scan of the matrix, forward only.", "",
        *out, "", "Targets:", *targets, ""])
    print(md)
    res = Path(__file__).parent / 'results'; res.mkdir(exist_ok=True)
    (res / 'topology.md').write_text(md)

if __name__ == '__main__': main()
