"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. (2017) for large
vocabularies, with PyTorch's parameters, cluster layout and outputs."""
from collections import namedtuple

from .. import _C
from ..creation import zeros
from .linear import Linear
from .module import Module, ModuleList, Sequential

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax (``torch.nn.AdaptiveLogSoftmaxWithLoss``).

    The classes are split by ``cutoffs`` (increasing, each in 1 .. n_classes - 1): the
    first ``cutoffs[0]`` (the frequent ones) are scored by ``head`` together with one
    score per tail cluster; cluster i (classes ``cutoffs[i] .. cutoffs[i + 1] - 1``, the
    last ending at n_classes) is scored by ``tail[i]``, a projection to
    ``in_features // div_value ** (i + 1)`` features and a linear map to the cluster's
    classes. log p(class) = the head's log-softmax of the class (shortlist) or of the
    cluster, plus the cluster's own log-softmax of the class.

    ``forward(input, target)`` with input (N, in_features) and target (N,) (or unbatched
    (in_features,) and a scalar) returns ``(output, loss)``: the log-probability of each
    target and the mean of their negatives. ``log_prob(input)`` gives every class's
    log-probability (N, n_classes), ``predict(input)`` the most likely class.
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if (not cutoffs or cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of unique, positive integers "
                             f"sorted in an increasing order, each between 1 and n_classes - 1 = {n_classes - 1}; "
                             f"got {cutoffs}")
        self.in_features, self.n_classes, self.div_value, self.head_bias = in_features, n_classes, div_value, head_bias
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                        Linear(hsz, osz, bias=False, dtype=dtype)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for cluster in self.tail:
            for layer in cluster:
                layer.reset_parameters()

    def _check_input(self, input):
        if input.ndim not in (1, 2) or input.shape[-1] != self.in_features:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: input should be (N, {self.in_features}) or "
                             f"({self.in_features},), got {tuple(input.shape)}")

    def forward(self, input, target):
        self._check_input(input)
        if target.ndim != input.ndim - 1:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: target of shape {tuple(target.shape)} does not match "
                             f"input of shape {tuple(input.shape)}: expected (N,) for (N, C), or a scalar")
        batched = input.ndim == 2
        if not batched:
            input, target = input.unsqueeze(0), target.unsqueeze(0)
        if input.shape[0] != target.shape[0]:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: input and target should have the same batch size, got "
                             f"{input.shape[0]} and {target.shape[0]}")
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= self.n_classes):
            raise IndexError(f"AdaptiveLogSoftmaxWithLoss: target values should be in [0, {self.n_classes - 1}], "
                             f"but values in range [{int(target.min())}, {int(target.max())}] were found")
        N = input.shape[0]
        target = target.long()
        # The head's column for each row: the target itself (shortlist) or its cluster's.
        head_col = target.clone()
        output = zeros(N, dtype=input.dtype)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            rows = ((target >= low) & (target < high)).nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            head_col = head_col.index_fill(0, rows, self.shortlist_size + i)
            cluster = _C.log_softmax(self.tail[i](input.index_select(0, rows)), 1)
            local = cluster.gather(1, (target.index_select(0, rows) - low).unsqueeze(1)).reshape(-1)
            output = output.index_add(0, rows, local)
        head = _C.log_softmax(self.head(input), 1)
        output = output + head.gather(1, head_col.unsqueeze(1)).reshape(-1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input, head):
        parts = [head[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = _C.log_softmax(self.tail[i](input), 1)
            parts.append(cluster + head[:, self.shortlist_size + i:self.shortlist_size + i + 1])
        return _C.cat(parts, 1)

    def log_prob(self, input):
        """The log-probability of every class, (N, n_classes) (or (n_classes,) unbatched)."""
        self._check_input(input)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        out = self._full_log_prob(x, _C.log_softmax(self.head(x), 1))
        return out if batched else out.squeeze(0)

    def predict(self, input):
        """The most likely class of each row, (N,) (or a scalar unbatched)."""
        return self.log_prob(input).argmax(-1)
