"""Module lookups (get_submodule, get_parameter, get_buffer, set_submodule) and the
porting stubs that raise; nn.utils fusion against the unfused layers, get_total_norm and
clip_grads_with_norm_ against NumPy norms, skip_init and stateless; autograd.gradgradcheck
catching a wrong second derivative."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn


def test_module_lookups():
    m = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3), nn.ReLU()))
    assert m.get_submodule("1.0") is m[1][0] and m.get_submodule("") is m
    assert m.get_parameter("0.bias") is m[0].bias
    assert m.get_buffer("1.0.running_var") is m[1][0].running_var
    m.set_submodule("1.1", nn.Tanh())
    assert isinstance(m[1][1], nn.Tanh)
    with pytest.raises(AttributeError, match="Sequential has no submodule '5'"):
        m.get_submodule("1.5")
    with pytest.raises(AttributeError, match="Linear has no parameter 'gain'"):
        m.get_parameter("0.gain")
    with pytest.raises(AttributeError, match="BatchNorm1d has no buffer 'mean'"):
        m.get_buffer("1.0.mean")
    assert m.compile() is None and m.share_memory() is m
    with pytest.raises(RuntimeError, match=r"Module.cuda\(\): no CUDA device"):
        m.cuda()
    with pytest.raises(TypeError, match="dlcore has no float16 tensors"):
        m.half()


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn(rng, transpose):
    conv = (nn.ConvTranspose2d(2, 3, 3, bias=False) if transpose else nn.Conv2d(2, 3, 3)).double()
    bn = nn.BatchNorm2d(3).double()
    with dl.no_grad():
        bn.running_mean.copy_(dl.tensor(rng.normal(size=3)))
        bn.running_var.copy_(dl.tensor(rng.uniform(0.5, 2.0, size=3)))
        bn.weight.copy_(dl.tensor(rng.normal(size=3)))
        bn.bias.copy_(dl.tensor(rng.normal(size=3)))
    conv.eval(), bn.eval()
    fused = nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    x = dl.tensor(rng.normal(size=(2, 2, 5, 5)))
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    assert isinstance(fused.weight, nn.Parameter) and fused is not conv
    with pytest.raises(ValueError, match="fuse_conv_bn_eval: fusion only for eval mode"):
        nn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_linear_bn(rng):
    lin, bn = nn.Linear(4, 3).double().eval(), nn.BatchNorm1d(3).double().eval()
    with dl.no_grad():
        bn.running_var.copy_(dl.tensor(rng.uniform(0.5, 2.0, size=3)))
        bn.running_mean.copy_(dl.tensor(rng.normal(size=3)))
    x = dl.tensor(rng.normal(size=(5, 4)))
    fused = nn.utils.fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="fuse_linear_bn_eval: the linear layer's 3 outputs and the batch norm's 2"):
        nn.utils.fuse_linear_bn_eval(lin, nn.BatchNorm1d(2).double().eval())


def test_total_norm_and_clipping(rng):
    gs = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    ts = [dl.tensor(g) for g in gs]
    flat = np.concatenate([g.ravel() for g in gs])
    for p in (1.0, 2.0, 3.0, np.inf):
        want = np.abs(flat).max() if p == np.inf else (np.abs(flat) ** p).sum() ** (1 / p)
        np.testing.assert_allclose(nn.utils.get_total_norm(ts, p).item(), want, rtol=1e-12)
    params = [nn.Parameter(dl.zeros(3, 4, dtype=dl.float64)), nn.Parameter(dl.zeros(5, dtype=dl.float64))]
    for prm, g in zip(params, gs):
        prm.grad = dl.tensor(g)
    total = nn.utils.get_total_norm([p.grad for p in params])
    nn.utils.clip_grads_with_norm_(params, 0.5, total)
    scale = 0.5 / (np.linalg.norm(flat) + 1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), gs[1] * scale, rtol=1e-12)
    with pytest.raises(RuntimeError, match="the total norm of order 2.0 of the gradients is nan"):
        nn.utils.get_total_norm([dl.tensor([np.nan])], error_if_nonfinite=True)


def test_skip_init_and_stateless(rng):
    layer = nn.utils.skip_init(nn.Linear, 3, 2)
    assert isinstance(layer, nn.Linear) and layer.weight.shape == (2, 3)
    w = {"weight": dl.tensor(rng.normal(size=(2, 3))), "bias": dl.tensor(rng.normal(size=2))}
    x = rng.normal(size=(4, 3))
    out = nn.utils.stateless.functional_call(layer.double(), w, (dl.tensor(x),))
    np.testing.assert_allclose(out.numpy(), x @ w["weight"].numpy().T + w["bias"].numpy(), rtol=1e-12)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = dl.tensor(np.array([0.3, -1.2, 0.8]), requires_grad=True)
    assert dl.autograd.gradgradcheck(lambda t: (t ** 3).sin(), (x,))

    class CubeKeepsNoSecond(dl.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 3

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * 3 * t.detach() ** 2  # right first derivative; the second is lost

    assert dl.autograd.gradcheck(CubeKeepsNoSecond.apply, (x,))
    assert not dl.autograd.gradgradcheck(CubeKeepsNoSecond.apply, (x,), raise_exception=False)
