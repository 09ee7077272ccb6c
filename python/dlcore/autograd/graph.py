"""torch.autograd.graph's saved-tensor hooks: what backward keeps of each tensor an op saves.

``with saved_tensors_hooks(pack_hook, unpack_hook):`` every tensor saved for backward
inside the block (by dlcore's ops and by custom Functions' save_for_backward) goes to
``pack_hook(tensor)``, whose result is kept instead of the tensor; when backward needs it,
``unpack_hook(kept)`` must return a tensor of the same shape and dtype (it gets the saved
tensor's autograd history back, so double backward works). Use them to compress, offload
or inspect activations. Hooks nest (the innermost applies) and are per thread. A tensor
kept by hooks is not version-checked: an in-place change after saving is the hooks' to
see.
"""
from .. import _C


class saved_tensors_hooks:  # noqa: N801  (PyTorch's name)
    """Context manager: pack_hook and unpack_hook for the tensors saved inside it."""

    def __init__(self, pack_hook, unpack_hook):
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("saved_tensors_hooks: pack_hook and unpack_hook must be callable")
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        _C._push_saved_tensor_hooks(self.pack_hook, self.unpack_hook)
        return self

    def __exit__(self, *exc):
        _C._pop_saved_tensor_hooks()
        return False


class save_on_cpu(saved_tensors_hooks):  # noqa: N801
    """Keeps a copy of each saved tensor on the CPU, as PyTorch's does for accelerator
    tensors (dlcore's tensors are already there: the copy only makes later in-place changes
    to the originals invisible to backward)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        super().__init__(lambda t: t.detach().clone(), lambda kept: kept)


class disable_saved_tensors_hooks:  # noqa: N801
    """Inside it, saving a tensor for backward raises RuntimeError(error_message): for code
    that must not run under saved-tensor hooks."""

    def __init__(self, error_message):
        self.error_message = str(error_message)

    def __enter__(self):
        _C._push_disabled_saved_tensor_hooks(self.error_message)
        return self

    def __exit__(self, *exc):
        _C._pop_saved_tensor_hooks()
        return False
