"""``Sequential``: modules run in order, as ``torch.nn.Sequential``."""

from optlib.nn.module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """A chain of modules: ``forward`` runs them in order, ``backward`` in reverse.

    Parameter names are ``"<index>.<name>"`` (``"0.weight"``, ``"0.bias"``,
    ``"2.weight"``, ...), as in PyTorch's ``Sequential.state_dict()``.

    Parameters
    ----------
    *layers : ``Module``
        The modules, first to last.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layers must be Module instances, got {type(layer).__name__} at position {i}")
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout, input_grad=True):
        for i in range(len(self.layers) - 1, 0, -1):
            dout = self.layers[i].backward(dout)
        # The first layer's input gradient is only computed when asked for: for a
        # network's input (the data) it is never used, and it costs as much as the
        # first layer's forward matrix product.
        return self.layers[0].backward(dout, input_grad=input_grad) if self.layers else dout

    def parameters(self):
        return {f"{i}.{name}": p for i, layer in enumerate(self.layers)
                for name, p in layer.parameters().items()}

    def gradients(self):
        return {f"{i}.{name}": g for i, layer in enumerate(self.layers)
                for name, g in layer.gradients().items()}

    def buffers(self):
        return {f"{i}.{name}": b for i, layer in enumerate(self.layers)
                for name, b in layer.buffers().items()}

    def train(self, mode=True):
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        lines = [f"  ({i}): {layer!r}".replace("\n", "\n  ") for i, layer in enumerate(self.layers)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
