"""Miniature data-parallel check for nbs/37_distributed.ipynb: the same fastai training on one process or on several
(gloo on the CPU), same seed. Launch: python -m torch.distributed.run --nproc_per_node N tools/dp_check.py OUT [--sync]
[--both]; --both runs the plain and the --sync check in one launch (one process start-up), into OUT/two and OUT/sync.
Writes OUT/rank<r>.pt: every training batch's sample indices per epoch, the densification loss of the first batches,
the anchors and parameters after the fit, and validation metrics; with --sync also a check of `synced_statistics`."""
import sys
from pathlib import Path
import torch
import torch.nn as nn
from fastai.callback.core import Callback
from fastai.callback.training import GradientAccumulation
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.torch_core import set_seed
from sklearn.datasets import load_digits
from relrep_nb.callbacks import AnchorRefreshCallback, DensificationCallback
from relrep_nb.data import ClassGroupedDL
from relrep_nb.distributed import DataParallelTrainer, init_processes, synced_statistics
from relrep_nb.models import RelativeClassifier, mlp_top

K, M, N_TRAIN, EPOCHS, SEED = 4, 8, 512, 2, 0   # batches of 4 classes x 8 digits, 16 batches per epoch

class DropIndex(nn.Module):
    "The inputs carry their sample index in the last column (to record the batches); the model does not see it."
    def forward(self, x): return x[:, :-1]

class RecordBatches(Callback):
    order = 1   # after the densification callback has computed the batch's loss
    def before_fit(self): self.batches = []
    def before_train(self): self.batches.append([])
    def after_loss(self):
        if self.training: self.batches[-1].append(self.learn.xb[0][:, -1].long().tolist())

def main(out, sync, last=True):
    rank, world = init_processes()
    torch.set_num_threads(1)
    X, y = load_digits(return_X_y=True)
    keep = y < K
    X = torch.tensor(X[keep] / 16., dtype=torch.float32); y = torch.tensor(y[keep])
    X = torch.cat([X, torch.arange(len(X), dtype=torch.float32)[:, None]], 1)
    tr, va = slice(0, N_TRAIN), slice(N_TRAIN, None)
    set_seed(SEED, reproducible=True)
    anchors = X[tr][torch.randperm(N_TRAIN)[:16]]
    model = RelativeClassifier(nn.Sequential(DropIndex(), mlp_top(64, 32, 16)), K, 'robust', anchors, d_latent=16)
    dls = DataLoaders(ClassGroupedDL(list(zip(X[tr], y[tr])), labels=y[tr], k=K, m=M, seed=SEED),
                      DataLoader(list(zip(X[va], y[va])), bs=128), device='cpu')
    dens = DensificationCallback(beta_pre=0.5, beta_post=0.5, lam=0.05, schedule=False, reduction='sum')   # the weighting this check was written with
    rec = RecordBatches()
    cbs = [dens, rec]
    if world > 1: cbs += [AnchorRefreshCallback(every=1), DataParallelTrainer(sync_stats=sync)]
    else: cbs += [AnchorRefreshCallback(every=2), GradientAccumulation(n_acc=2 * K * M)]   # one step per 2 batches, as 2 processes
    learn = Learner(dls, model, loss_func=nn.CrossEntropyLoss(), cbs=cbs)
    with learn.no_bar(), learn.no_logging(): learn.fit(EPOCHS, 3e-3)
    model.eval()
    with torch.no_grad(): logits = model(X[va])
    res = dict(batches=rec.batches, first_losses=[h['topo_loss'] for h in dens.history[:2]],
               anchors=model.projection.anchors.clone(), params={k: v.detach().clone() for k, v in model.named_parameters()},
               running_mean=model.projection.running_mean.clone(), running_var=model.projection.running_var.clone(),
               metrics=dict(valid_acc=100 * (logits.argmax(1) == y[va]).float().mean().item(),
                            valid_loss=nn.functional.cross_entropy(logits, y[va]).item()))
    if sync:   # synchronised statistics of two halves = statistics of the whole, gradients included
        g = torch.Generator().manual_seed(1)
        full, w = torch.randn(10, 6, generator=g) * 2 + 1, torch.randn(2, 6, generator=g)
        part = full[[0, 1, 2, 3]] if rank == 0 else full[4:]          # unequal shares: 4 and 6 rows
        part = part.clone().requires_grad_()
        mean, var, n = synced_statistics(part)
        ((mean * w[0]).sum() + (var * w[1]).sum()).backward()
        fz = full.clone().requires_grad_()
        fm, fv = fz.mean(0), fz.var(0, unbiased=False)
        ((fm * w[0]).sum() + (fv * w[1]).sum()).backward()
        rows = slice(0, 4) if rank == 0 else slice(4, None)
        res.update(sync_mean=mean.detach(), sync_var=var.detach(), full_mean=fm.detach(), full_var=fv.detach(), n=n,
                   sync_grad=part.grad / world, full_grad=fz.grad[rows])   # each process's loss is the same L: its gradient arrives W times
    Path(out).mkdir(parents=True, exist_ok=True)
    torch.save(res, Path(out) / f'rank{rank}.pt')
    if last and torch.distributed.is_initialized():   # leave together: a process that exits while its peer still talks to it aborts
        torch.distributed.barrier(); torch.distributed.destroy_process_group()

if __name__ == '__main__':
    if '--both' in sys.argv:   # one launch, two checks: the process group is created once
        main(Path(sys.argv[1])/'two', False, last=False); main(Path(sys.argv[1])/'sync', True)
    else: main(sys.argv[1], '--sync' in sys.argv)
