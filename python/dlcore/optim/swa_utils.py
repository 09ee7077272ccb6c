"""Stochastic weight averaging and exponential moving averages of a model, as
``torch.optim.swa_utils``: ``AveragedModel`` (a copy of the model whose parameters are the
running average of the ones it is given), ``SWALR`` (anneals each group's rate to a fixed
SWA rate), and ``update_bn`` (recomputes batch-norm statistics for the averaged weights)."""
import copy
import math

from .. import _C
from ..creation import tensor
from ..grad_mode import no_grad
from ..nn.module import Module
from .lr_scheduler import LRScheduler


def get_swa_avg_fn():
    """The running mean: avg + (new - avg) / (n + 1)."""
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (int(num_averaged) + 1)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average: decay avg + (1 - decay) new."""
    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1.0 - decay) * current
    return ema_update


def get_swa_multi_avg_fn():
    """get_swa_avg_fn over lists of tensors, in place."""
    fn = get_swa_avg_fn()

    def swa_update(averaged, current, num_averaged):
        for a, c in zip(averaged, current):
            a.copy_(fn(a, c, num_averaged))
    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """get_ema_avg_fn over lists of tensors, in place."""
    fn = get_ema_avg_fn(decay)

    def ema_update(averaged, current, num_averaged):
        for a, c in zip(averaged, current):
            a.copy_(fn(a, c, num_averaged))
    return ema_update


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters (and, with use_buffers, buffers) are
    averaged over the models given to update_parameters: the running mean by default,
    or avg_fn(averaged, current, num_averaged) per tensor, or multi_avg_fn over the lists.
    The first update copies the model. Without use_buffers the buffers follow the latest
    model (update_bn recomputes batch-norm statistics)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype=_C.dtype.int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model):
        return list(model.parameters()) + (list(model.buffers()) if self.use_buffers else [])

    def update_parameters(self, model):
        own, new = self._tensors(self.module), self._tensors(model)
        if len(own) != len(new):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(new)} tensors to average, "
                             f"the averaged copy {len(own)}")
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for a, c in zip(own, new):
                    a.copy_(c.detach())
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a.detach() for a in own], [c.detach() for c in new], self.n_averaged)
            else:
                fn = self.avg_fn or get_swa_avg_fn()
                for a, c in zip(own, new):
                    a.copy_(fn(a.detach(), c.detach(), self.n_averaged))
            if not self.use_buffers:
                for a, c in zip(self.module.buffers(), model.buffers()):
                    a.copy_(c.detach())
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """One pass over loader (batches, or (input, ...) tuples whose first item is the
    input) in training mode with every batch norm's statistics reset and averaged over the
    whole pass (momentum None); the momenta and the model's mode are restored after."""
    from ..nn.norm import _BatchNorm

    norms = [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not norms:
        return
    momenta = {}
    for m in norms:
        m.reset_running_stats()
        momenta[m] = m.momentum
        m.momentum = None
    was_training = model.training
    model.train()
    with no_grad():
        for batch in loader:
            model(batch[0] if isinstance(batch, (list, tuple)) else batch)
    for m in norms:
        m.momentum = momenta[m]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's rate from where it stands to swa_lr over anneal_epochs steps
    ('cos': by (1 - cos(pi t)) / 2, 'linear': by t, t the fraction of the annealing done),
    then holds swa_lr. swa_lr is a number or one per group."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be a non-negative int, got {anneal_epochs!r}")
        groups = optimizer.param_groups
        lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else [swa_lr] * len(groups)
        if len(lrs) != len(groups):
            raise ValueError(f"SWALR: expected {len(groups)} swa_lr values, got {len(lrs)}")
        for g, lr in zip(groups, lrs):
            g["swa_lr"] = lr
        self.anneal_epochs, self.anneal_strategy = anneal_epochs, anneal_strategy
        self.start_lrs = [g["lr"] for g in groups]
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = 1.0 if self.anneal_epochs == 0 else min(1.0, max(0, self.last_epoch) / self.anneal_epochs)
        alpha = (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t
        return [g["swa_lr"] * alpha + start * (1 - alpha)
                for g, start in zip(self.optimizer.param_groups, self.start_lrs)]
