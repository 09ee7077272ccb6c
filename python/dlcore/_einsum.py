"""einsum: Einstein summation over the core's ops.

Each operand's subscripts name its dims (an ellipsis stands for the dims its letters leave,
aligned from the right and broadcast across operands). Operands are taken left to right:
letters that no later operand nor the output needs are summed out of an operand first;
two operands are then contracted as one batched matmul (batch letters kept by both,
contracted letters shared and no longer needed, and the letters only one of them keeps),
and the result is permuted into the output's order. Gradients are those of the permutes,
sums and matmuls."""
import builtins
import string

from . import _C

_LETTERS = string.ascii_letters


def _parse(equation, operands):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        explicit = True
    else:
        lhs, out, explicit = eq, None, False
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: the equation has {len(terms)} operand(s) but {len(operands)} "
                         "tensor(s) were given")
    # The letters free for the ellipsis' dims.
    used = set(ch for ch in eq if ch.isalpha())
    spare = [ch for ch in _LETTERS if ch not in used]
    ell_dims = 0
    for t, x in zip(terms, operands):
        if "." in t and t.count("...") != 1 or t.replace("...", "").count(".") > 0:
            raise ValueError(f"einsum: invalid subscripts {t!r} (at most one '...')")
        letters = t.replace("...", "")
        for ch in letters:
            if ch not in _LETTERS:
                raise ValueError(f"einsum: invalid subscript {ch!r} in {equation!r}: use letters a-z, A-Z")
        n = len(letters)
        if "..." in t:
            if x.ndim < n:
                raise ValueError(f"einsum: operand of shape {tuple(x.shape)} has fewer dims than "
                                 f"the subscripts {t!r} name")
            ell_dims = builtins.max(ell_dims, x.ndim - n)
        elif x.ndim != n:
            raise ValueError(f"einsum: subscripts {t!r} name {n} dims, but the operand has shape "
                             f"{tuple(x.shape)}")
    ell = "".join(spare[:ell_dims])
    subs = []
    for t, x in zip(terms, operands):
        if "..." in t:
            k = x.ndim - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_dims - k:])
        if len(set(t)) != len(t):
            raise ValueError(f"einsum: a letter repeated within one operand ({t!r}) is not supported")
        subs.append(t)
    if explicit:
        if out.count("...") > 1 or out.replace("...", "").count(".") > 0:
            raise ValueError(f"einsum: invalid output subscripts {out!r}")
        out = out.replace("...", ell)
        for ch in out:
            if not any(ch in s for s in subs):
                raise ValueError(f"einsum: output letter {ch!r} does not appear in any operand")
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: output letter repeated in {out!r}")
    else:  # the ellipsis' dims, then the letters seen once, in alphabetical order
        counts = {}
        for s in subs:
            for ch in s:
                counts[ch] = counts.get(ch, 0) + 1
        out = ell + "".join(sorted(ch for ch, c in counts.items() if c == 1 and ch not in ell))
    return subs, out


def _sizes(subs, operands):
    size = {}
    for s, x in zip(subs, operands):
        for ch, n in zip(s, x.shape):
            if size.get(ch, 1) != 1 and n != 1 and size[ch] != n:
                raise ValueError(f"einsum: subscript {ch!r} has size {n} in an operand of shape "
                                 f"{tuple(x.shape)}, but {size[ch]} in another")
            size[ch] = builtins.max(size.get(ch, 1), n)
    return size


def _sum_out(x, s, keep):
    """Sums the letters of s that are not in keep."""
    drop = [i for i, ch in enumerate(s) if ch not in keep]
    if drop:
        x = x.sum(drop)
        s = "".join(ch for ch in s if ch in keep)
    return x, s


def _contract(a, sa, b, sb, keep, size):
    """The product of a (letters sa) and b (letters sb) summed over the shared letters not
    in keep; returns it and its letters."""
    batch = [ch for ch in sa if ch in sb and ch in keep]
    summed = [ch for ch in sa if ch in sb and ch not in keep]
    left = [ch for ch in sa if ch not in sb]
    right = [ch for ch in sb if ch not in sa]
    a = a.permute([sa.index(ch) for ch in batch + left + summed])
    b = b.permute([sb.index(ch) for ch in batch + summed + right])
    # Letters of size 1 in one operand broadcast to the other's size.
    a = a.expand(*[size[ch] for ch in batch + left + summed])
    b = b.expand(*[size[ch] for ch in batch + summed + right])
    nb, m, k, n = (_prod(size[ch] for ch in g) for g in (batch, left, summed, right))
    c = _C.matmul(a.reshape(nb, m, k), b.reshape(nb, k, n))
    return c.reshape([size[ch] for ch in batch + left + right]), "".join(batch + left + right)


def _prod(values):
    p = 1
    for v in values:
        p *= v
    return p


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum``: ``einsum("bhqd,bhkd->bhqk", q, k)``. The
    operands may also be given as one list. A letter repeated within one operand (a
    diagonal) is not supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: at least one operand is needed")
    for x in operands:
        if not isinstance(x, _C.Tensor):
            raise TypeError(f"einsum: operands must be tensors, got {type(x).__name__}")
    subs, out = _parse(equation, operands)
    size = _sizes(subs, operands)
    x, s = operands[0], subs[0]
    for i in range(1, len(operands) + 1):
        # Letters still needed: the output's and those of the operands to come.
        keep = set(out).union(*subs[i:]) if i < len(operands) else set(out)
        later = set(out).union(*subs[i + 1:])
        x, s = _sum_out(x, s, keep)
        if i == len(operands):
            break
        y, t = _sum_out(operands[i], subs[i], set(s) | later)
        x, s = _contract(x, s, y, t, later, size)
    x = x.permute([s.index(ch) for ch in out]) if s else x
    return x.expand(*[size[ch] for ch in out]) if out else x
