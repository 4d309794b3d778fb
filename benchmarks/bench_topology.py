"""Forward + backward of the topological densification loss against its peers and a matmul bound, side by side.

For k classes of n points in d dimensions (one class-grouped batch of k*n points with labels), every variant
computes each class's 0-dimensional death times and backpropagates sum |d - beta| to the points:
- ours: `topo_densification_loss` (all classes at once; on the CPU with numba one compiled pass forms each squared
  distance from the point differences as Prim needs it, measures the tree and the penalty, and one compiled loop
  gives the gradient; elsewhere the batched torch Prim);
- two-step: `class_death_times` then `densification_penalty`, as `DensificationCallback` calls them (it logs the
  death times as well);
- gudhi, scipy, giotto-ph: per class, the peer picks the tree (gudhi's RipsComplex + `flag_persistence_generators`,
  scipy's `minimum_spanning_tree` on the dense distance matrix, giotto-ph's `ripser_parallel` generators), then one
  shared torch tail recomputes the chosen edges' lengths with autograd and backpropagates (none of them has a
  gradient of its own): "peer + a gather";
- torch-topological: `VietorisRipsComplex(dim=0)` on the batch of clouds (its own cdist and gather, with autograd);
- matmul bound: one batched distance matmul (k, n, d) x (k, d, n) plus one scan of the matrix (`amin`), forward only:
  the least a method that forms distances through a Gram matrix does. Ours forms them from differences and can
  come in under it.
Peers that are not installed are skipped, and the output says so. Each round runs every variant once, in an order shuffled
(seeded) at each round, so load on a shared machine hits all alike and no variant always follows the same one; the
tables report medians. The training-regime rows come
first: 16 points per class (the batches of `ClassGroupedSampler`), 8 and 16 classes, d = 384 and 768, and one training
step of a small head on a batch of 256 = 16 classes x 16 samples in d = 768, with and without the loss on its hidden
layer (blocks of consecutive steps of each, alternating, as training runs them). Then the scaling rows, 8 classes of
16 to 1024 points.
Usage: python benchmarks/bench_topology.py [--threads T] [--quick] [--device cpu|cuda] [--out FILE]
"""
import argparse, importlib, os, platform, random, statistics, sys, time
from importlib import metadata
from pathlib import Path
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import relrep_nb.topology as topology
from relrep_nb.topology import topo_densification_loss, class_death_times, densification_penalty, _squared_distances

BETA = 1.0
PEERS = {'gudhi': 'gudhi', 'scipy': 'scipy', 'giotto-ph': 'gph', 'torch-topological': 'torch_topological'}

def _import(dist, module):
    "The peer's module and version, or None and why not (it is then skipped)."
    try:
        mod = importlib.import_module(module)
        if module == 'torch_topological': mod = importlib.import_module('torch_topological.nn')
        return mod, metadata.version(dist), None
    except Exception as e:   # not installed, or a dependency of it missing
        return None, None, f"{type(e).__name__}: {e}"

def load_peers():
    peers, skipped = {}, {}
    for dist, module in PEERS.items():
        mod, version, why = _import(dist, module)
        if mod is None: skipped[dist] = why; print(f"peer {dist} not measured ({why})", file=sys.stderr)
        else: peers[dist] = (mod, version)
    return peers, skipped

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def _tail(z, n, edges_per_class):
    "Shared torch tail of the peers that only pick the tree: lengths of the chosen edges with autograd, backward."
    loss = 0.
    for c, (i, j) in enumerate(edges_per_class):
        zc = z[c*n:(c+1)*n]
        diff = zc[i] - zc[j]
        sq = (diff*diff).sum(-1); pos = sq > 0
        d = torch.where(pos, torch.where(pos, sq, 1.).sqrt(), 0.)
        loss = loss + (d - BETA).abs().sum()
    loss.backward()

def variants(k, n, d, dev, peers):
    g = torch.Generator().manual_seed(0)
    z0 = torch.randn(k*n, d, generator=g).to(dev)
    y = torch.arange(k).repeat_interleave(n).to(dev)
    as_index = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64), device=dev)
    def ours():
        z = z0.detach().requires_grad_(); topo_densification_loss(z, y, BETA, reduction="sum").backward(); _sync(dev)
    def two_step():                                          # what DensificationCallback calls (it logs the death times)
        z = z0.detach().requires_grad_()
        densification_penalty(class_death_times(z, y), BETA, reduction="sum").backward(); _sync(dev)
    fs = dict(ours=ours, two_step=two_step)
    if 'gudhi' in peers:
        gudhi = peers['gudhi'][0]
        def gudhi_():
            z = z0.detach().requires_grad_(); zn = z0.double().cpu().numpy(); edges = []
            for c in range(k):
                st = gudhi.RipsComplex(points=zn[c*n:(c+1)*n]).create_simplex_tree(max_dimension=1)
                st.compute_persistence(min_persistence=-1)
                e = st.flag_persistence_generators()[0]
                edges.append((as_index(e[:, 1]), as_index(e[:, 2])))
            _tail(z, n, edges); _sync(dev)
        fs['gudhi'] = gudhi_
    if 'scipy' in peers:
        from scipy.sparse.csgraph import minimum_spanning_tree
        def scipy_():
            z = z0.detach().requires_grad_(); edges = []
            dist = _squared_distances(z0.view(k, n, d)).sqrt_()
            dist.diagonal(dim1=1, dim2=2).fill_(0.)
            dn = dist.cpu().numpy()
            for c in range(k):
                t = minimum_spanning_tree(dn[c]).tocoo()
                edges.append((as_index(t.row), as_index(t.col)))
            _tail(z, n, edges); _sync(dev)
        fs['scipy'] = scipy_
    if 'giotto-ph' in peers:
        gph = peers['giotto-ph'][0]
        def giotto():
            z = z0.detach().requires_grad_(); zn = z0.cpu().numpy(); edges = []
            for c in range(k):
                e = gph.ripser_parallel(zn[c*n:(c+1)*n], maxdim=0, return_generators=True, n_threads=1)['gens'][0]
                edges.append((as_index(e[:, 1]), as_index(e[:, 2])))
            _tail(z, n, edges); _sync(dev)
        fs['giotto-ph'] = giotto
    if 'torch-topological' in peers:
        vr = peers['torch-topological'][0].VietorisRipsComplex(dim=0, n_threads=1)
        def torch_topological():
            z = z0.detach().requires_grad_()
            infos = vr(z.view(k, n, d))                      # per cloud: [PersistenceInformation of dimension 0]
            sum((info[0].diagram[:, 1] - BETA).abs().sum() for info in infos).backward(); _sync(dev)
        fs['torch-topological'] = torch_topological
    def matmul_bound():
        x = z0.view(k, n, d)
        torch.bmm(x, x.transpose(1, 2)).amin(-1); _sync(dev)
    fs['matmul bound'] = matmul_bound
    return fs

class Timing(dict):
    "Median time of each variant; `ratio(a, b)`: the median over rounds of a's time over b's in the same round."
    def __init__(self, times):
        super().__init__({name: statistics.median(ts) for name, ts in times.items()}); self.times = times
    def ratio(self, a, b): return statistics.median(x / y for x, y in zip(self.times[a], self.times[b]))

def timeit(fs, repeats, warmup=1, seed=0):
    "`Timing` of `repeats` rounds; each round runs every function once, in a shuffled order."
    rng, names = random.Random(seed), list(fs)
    times = {name: [] for name in names}
    for i in range(warmup + repeats):
        rng.shuffle(names)                                    # no variant always follows the same one
        for name in names:
            t0 = time.perf_counter(); fs[name](); dt = time.perf_counter() - t0
            if i >= warmup: times[name].append(dt)
    return Timing(times)

def agreement(k, n, d, peers):
    "The variants compute the same loss: ours against gudhi in float64, and each peer's loss on the benchmark's data."
    g = torch.Generator().manual_seed(0)
    z0 = torch.randn(k*n, d, generator=g)
    y = torch.arange(k).repeat_interleave(n)
    ours64 = float(topo_densification_loss(z0.double(), y, BETA, reduction="sum"))
    out = {}
    if 'gudhi' in peers:
        gudhi, ref = peers['gudhi'][0], 0.
        for c in range(k):
            st = gudhi.RipsComplex(points=z0[c*n:(c+1)*n].double().numpy()).create_simplex_tree(max_dimension=1)
            ref += sum(abs(dd - BETA) for dim, (b, dd) in st.persistence(min_persistence=-1) if dim == 0 and np.isfinite(dd))
        assert abs(ours64 - ref) < 1e-8 * max(1, ref), (ours64, ref)
        out['ours (float64) vs gudhi'] = abs(ours64 - ref) / ref
    ours32 = float(topo_densification_loss(z0, y, BETA, reduction="sum"))
    out['ours (float32)'] = abs(ours32 - ours64) / ours64
    if 'giotto-ph' in peers:
        l = 0.
        for c in range(k):
            dgm = peers['giotto-ph'][0].ripser_parallel(z0[c*n:(c+1)*n].numpy(), maxdim=0, n_threads=1)['dgms'][0]
            l += float(np.abs(dgm[np.isfinite(dgm[:, 1]), 1] - BETA).sum())
        out['giotto-ph'] = abs(l - ours64) / ours64
    if 'torch-topological' in peers:
        infos = peers['torch-topological'][0].VietorisRipsComplex(dim=0)(z0.view(k, n, d))
        l = float(sum((info[0].diagram[:, 1] - BETA).abs().sum() for info in infos))
        out['torch-topological'] = abs(l - ours64) / ours64
    return out

def training_step(dev, blocks, per_block=5, classes=16, per_class=16, d=768, lam=0.02):
    """Median time of one step of a small head (Linear-ReLU-Linear, hidden 768) with and without the loss: blocks of
    `per_block` + 1 consecutive steps of each, alternating, the first step of each block (the change-over) not counted;
    `ratio`: the median over pairs of adjacent blocks of their median times, with the loss over without."""
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
    fs, times = dict(plain=step(False), with_loss=step(True)), dict(plain=[], with_loss=[])
    for _ in range(3): fs['plain'](); fs['with_loss']()             # warm-up
    ratios = []                                                     # with the loss / plain, of adjacent blocks
    for _ in range(blocks):
        block = {}
        for name, f in fs.items():
            ts = []
            for i in range(per_block + 1):
                t0 = time.perf_counter(); f(); dt = time.perf_counter() - t0
                if i: ts.append(dt)
            times[name] += ts; block[name] = statistics.median(ts)
        ratios.append(block['with_loss'] / block['plain'])
    return {**{name: statistics.median(ts) for name, ts in times.items()}, 'steps': len(times['plain']),
            'ratio': statistics.median(ratios), 'blocks': blocks}

PEER_COLS = ['gudhi', 'scipy', 'giotto-ph', 'torch-topological']

def table(rows, peers, with_k):
    cols = [c for c in PEER_COLS if c in peers]
    head = ((["k"] if with_k else []) + ["n", "d", "ours (ms)", "matmul bound (ms)", "ours / bound", "two-step / bound"]
            + [f"{c} / ours" for c in cols])
    out = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for k, n, d, m in rows:
        o = m['ours']
        cells = (([str(k)] if with_k else []) + [str(n), str(d), f"{o*1e3:.3f}", f"{m['matmul bound']*1e3:.3f}",
                 f"{m.ratio('ours', 'matmul bound'):.2f}", f"{m.ratio('two_step', 'matmul bound'):.2f}"]
                 + [f"{m.ratio(c, 'ours'):.1f}" for c in cols])
        out.append("| " + " | ".join(cells) + " |")
    return out

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--quick', action='store_true', help='scaling rows up to n = 256 only, fewer repeats')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--out', default=None, help="results file (default benchmarks/results/topology[.cuda].md)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    peers, skipped = load_peers()
    t_start, load0 = time.perf_counter(), os.getloadavg()[0]
    agree = agreement(8, 64, 32, peers)
    scale = 0.5 if args.quick else 1
    train_rows, scaling_rows = [], []
    for k in (8, 16):
        for d in (384, 768):
            m = timeit(variants(k, 16, d, dev, peers), int(100 * scale), warmup=3)
            train_rows.append((k, 16, d, m))
            print(f"k={k} n=16 d={d}: " + ", ".join(f"{nm} {t*1e3:.3f} ms" for nm, t in m.items()), file=sys.stderr)
    step = training_step(dev, blocks=int(60 * scale))
    print(f"training step: {step}", file=sys.stderr)
    ns = [16, 64, 256] if args.quick else [16, 64, 256, 1024]
    for n in ns:
        for d in (32, 384, 768):
            if n == 16 and d != 32: continue                  # in the training-regime table
            repeats = max(2, int({16: 40, 64: 15, 256: 5, 1024: 2}[n] * scale))
            m = timeit(variants(8, n, d, dev, peers), repeats)
            scaling_rows.append((8, n, d, m))
            print(f"k=8 n={n} d={d}: " + ", ".join(f"{nm} {t*1e3:.3f} ms" for nm, t in m.items()), file=sys.stderr)
    wall = time.perf_counter() - t_start

    get = {(k, n, d): m for k, n, d, m in train_rows + scaling_rows}
    tr = [(k, d, get[(k, 16, d)].ratio('ours', 'matmul bound')) for k, _, d, _ in train_rows]
    overhead = step['ratio'] - 1
    targets = [
        "- the loss at 16 points per class, 8-16 classes, d = 384 and 768, ≤ 3× the matmul bound: "
        + ", ".join(f"k={k} d={d}: {r:.2f}×" for k, d, r in tr) + f"; {'met' if all(r <= 3 for *_, r in tr) else 'NOT met'}",
        f"- the training step (batch 256 = 16 × 16, d = 768) ≤ 8 % slower with the loss: **{overhead*100:+.1f} %**, "
        f"{'met' if overhead <= 0.08 else 'NOT met'}",
    ]
    if (8, 256, 768) in get and 'gudhi' in peers:
        t1 = get[(8, 256, 768)].ratio('gudhi', 'ours')
        targets.append(f"- ≥ 3× faster than gudhi at n = 256, d = 768: **{t1:.1f}×**, {'met' if t1 >= 3 else 'NOT met'}")
    lb = [(n, d, get[(8, n, d)].ratio('ours', 'matmul bound')) for _, n, d, _ in scaling_rows if n >= 256 and d >= 384]
    targets.append("- ≤ 1.5× the matmul bound for n ≥ 256, d ≥ 384: " + ", ".join(f"n={n} d={d}: {r:.2f}×" for n, d, r in lb)
                   + f"; {'met' if all(r <= 1.5 for *_, r in lb) else 'NOT met'}")

    cmd = "python benchmarks/bench_topology.py " + " ".join(sys.argv[1:])
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.machine()) \
          if os.path.exists('/proc/cpuinfo') else platform.machine()
    where = (f"GPU {torch.cuda.get_device_name(dev)} (CPU {cpu} for the peers' trees)" if dev.type == 'cuda'
             else f"CPU ({cpu}), {os.cpu_count()} cores visible, {args.threads} torch thread(s)")
    kernels = ('numba ' + topology.numba.__version__ + ' (compiled CPU kernels)'
               if topology._use_compiled(torch.zeros(1, device=dev)) else 'the pure-torch path')
    measured = ", ".join(f"{name} {v}" for name, (_, v) in peers.items()) or "none"
    not_measured = "; ".join(f"{name} ({why})" for name, why in skipped.items()) or "none"
    md = "\n".join(["# Topological densification loss: forward + backward, side by side", "",
        f"Command: `{cmd.strip()}`", "",
        f"Machine: {where}; torch {torch.__version__}; ours on {kernels}; float32; medians over rounds that run every "
        f"variant once in a shuffled order (100 rounds at n = 16 down to 2 at n = 1024), ratios the median over rounds "
        f"of the two times in the same round; "
        f"whole run {wall:.0f} s; load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"({os.cpu_count()} cores).", "",
        f"Peers measured: {measured}. Not measured: {not_measured}.", "",
        "ours = `topo_densification_loss(z, y, beta).backward()` on a class-grouped batch; two-step = "
        "`densification_penalty(class_death_times(z, y), beta)` and backward, as `DensificationCallback` calls it; gudhi, scipy and giotto-ph "
        "= their tree per class (a Python loop over classes, float64 for gudhi), then one shared torch recomputation of "
        "the chosen edges' lengths and backward; torch-topological = `VietorisRipsComplex(dim=0)` on the batch of clouds "
        "and backward; matmul bound = one batched distance matmul plus one scan of the matrix, forward only (the least a "
        "Gram-matrix method does; ours forms each distance from differences instead). Ratios above 1 in the peer "
        "columns mean ours is faster.", "",
        "Agreement on 8 classes of 64 points in d = 32 (relative difference of the loss to ours in float64): "
        + ", ".join(f"{name} {v:.1e}" for name, v in agree.items()) + ".", "",
        "## Training regime: 16 points per class", "",
        *table(train_rows, peers, with_k=True), "",
        f"Training step of a small head (Linear 768-768, ReLU, Linear 768-16; AdamW) on 16 classes × 16 samples, d = 768, "
        f"λ = 0.02 on the hidden layer: plain {step['plain']*1e3:.2f} ms, with the loss {step['with_loss']*1e3:.2f} ms "
        f"(medians of {step['steps']} steps each, in {step['blocks']} blocks of 5 consecutive steps, alternating); "
        f"the median over pairs of adjacent blocks of the ratio of their median times: **{overhead*100:+.1f} %**.", "",
        "## Scaling: 8 classes of n points", "",
        *table(scaling_rows, peers, with_k=False), "",
        "## Targets", "", *targets, ""])
    print(md)
    out = Path(args.out) if args.out else Path(__file__).parent / 'results' / f"topology{'.cuda' if dev.type == 'cuda' else ''}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md)

if __name__ == '__main__': main()
