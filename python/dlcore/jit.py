"""PyTorch's torch.jit names, for scripts that decorate or compile with TorchScript.

dlcore runs models as Python calling its C++ ops and has no TorchScript compiler: script
and trace return the function or module they are given, unchanged (it computes what it
computed before), and the decorators (ignore, unused, export) return the function. A
compiled file cannot be written or read: save and load raise and say to save the
state_dict with dlcore.save instead.
"""
import typing

Final = typing.Final


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Returns obj (a function or a Module) unchanged."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """Returns func (a function or a Module) unchanged; it is not run on example_inputs."""
    return func


def trace_module(mod, inputs=None, *args, **kwargs):
    """Returns mod unchanged."""
    return mod


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """Returns mod unchanged."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    """Returns mod unchanged."""
    return mod


def ignore(drop=False, **kwargs):
    """The decorator that leaves a function out of compilation: returns the function
    (used as @ignore or @ignore(drop=True))."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """Returns fn."""
    return fn


def export(fn):
    """Returns fn."""
    return fn


def is_scripting():
    """False: dlcore code always runs as Python."""
    return False


def is_tracing():
    """False: dlcore does not trace."""
    return False


def annotate(the_type, the_value):
    """Returns the_value (the type is for TorchScript's compiler)."""
    return the_value


class Future:
    """The result of fork: the call already ran; wait() returns its value."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def done(self):
        return True


def fork(func, *args, **kwargs):
    """Runs func(*args, **kwargs) now and returns a Future holding its result."""
    return Future(func(*args, **kwargs))


def wait(future):
    """The value of a Future from fork."""
    if not isinstance(future, Future):
        raise TypeError(f"wait(): expected a Future from dlcore.jit.fork, got {type(future).__name__}")
    return future.wait()


def _no_torchscript(name):
    def refuse(*args, **kwargs):
        raise NotImplementedError(
            f"jit.{name}(): dlcore has no TorchScript, so there is no compiled model to {name}; "
            "save the model's weights with dlcore.save(model.state_dict(), path) and load them with "
            "model.load_state_dict(dlcore.load(path))")

    refuse.__name__ = name
    return refuse


save = _no_torchscript("save")
load = _no_torchscript("load")
