"""Classic image networks, each a plain ``nn.Module`` a reader can follow: ``LeNet5``,
``ResNet`` with ``BasicBlock`` and ``Bottleneck`` (``resnet18`` and the small CIFAR-size
``resnet_cifar``), a configurable ``VGG``, and a ``UNet``."""
from .. import _C, nn


class LeNet5(nn.Module):
    """LeCun et al.'s LeNet-5 for 1 x 28 x 28 images (or 1 x 32 x 32 with ``padding=0``):
    conv 5x5 (6) - pool - conv 5x5 (16) - pool - 120 - 84 - num_classes, with ReLU and max
    pooling (the modern reading; ``activation=nn.Tanh, pool=nn.AvgPool2d`` gives the original)."""

    def __init__(self, num_classes=10, in_channels=1, padding=2, activation=nn.ReLU, pool=nn.MaxPool2d):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), activation(), pool(2),
            nn.Conv2d(6, 16, 5), activation(), pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), activation(), nn.Linear(120, 84), activation(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a shortcut (a 1x1 convolution when the shape
    changes)."""

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (by 4), with batch norm and a shortcut."""

    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_planes, planes * 4, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


def _shortcut(in_planes, out_planes, stride):
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False), nn.BatchNorm2d(out_planes))


class ResNet(nn.Module):
    """A residual network: a stem, four stages of ``block`` (``layers[i]`` blocks each, widths
    ``widths``, stages after the first halving the resolution), global average pooling and a
    linear classifier. ``stem='imagenet'`` is a 7x7/2 convolution and a 3x3/2 max pool;
    ``stem='cifar'`` a single 3x3 convolution for small images."""

    def __init__(self, block, layers, num_classes=1000, in_channels=3, widths=(64, 128, 256, 512), stem="imagenet"):
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"ResNet: stem must be 'imagenet' or 'cifar', got {stem!r}")
        if len(layers) != len(widths):
            raise ValueError(f"ResNet: {len(layers)} stage depths for {len(widths)} widths")
        w0 = widths[0]
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(in_channels, w0, 7, stride=2, padding=3, bias=False),
                                      nn.BatchNorm2d(w0), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, w0, 3, padding=1, bias=False), nn.BatchNorm2d(w0),
                                      nn.ReLU())
        stages, in_planes = [], w0
        for i, (depth, width) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(depth):
                blocks.append(block(in_planes, width, stride=2 if (i > 0 and j == 0) else 1))
                in_planes = width * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.fc(self.pool(x).flatten(1))


def resnet18(num_classes=1000, in_channels=3):
    """ResNet-18: BasicBlocks [2, 2, 2, 2], widths 64..512, the ImageNet stem."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes, in_channels)


def resnet_cifar(num_classes=10, in_channels=3, depth=20, width=16):
    """The small CIFAR ResNet of He et al. (depth 6n + 2): three stages of n BasicBlocks with
    widths width, 2 width, 4 width, and a 3x3 stem."""
    if (depth - 2) % 6:
        raise ValueError(f"resnet_cifar: depth must be 6n + 2, got {depth}")
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], num_classes, in_channels, (width, 2 * width, 4 * width), stem="cifar")


VGG_CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "small": [32, 32, "M", 64, 64, "M", 128, "M"],
}


class VGG(nn.Module):
    """A VGG-style network from a layer list: an int is a 3x3 convolution with that many
    channels (with batch norm when ``batch_norm``) and ReLU, "M" a 2x2 max pool; then
    adaptive average pooling to ``pool_size`` and a classifier with dropout."""

    def __init__(self, config="small", num_classes=10, in_channels=3, batch_norm=True, pool_size=1, hidden=256,
                 dropout=0.5):
        super().__init__()
        cfg = VGG_CONFIGS[config] if isinstance(config, str) else list(config)
        layers, c = [], in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            layers.append(nn.Conv2d(c, v, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            c = v
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c * pool_size * pool_size, hidden), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


class _DoubleConv(nn.Sequential):
    def __init__(self, cin, cout, batch_norm=True):
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm)]
        layers += [nn.BatchNorm2d(cout)] if batch_norm else []
        layers += [nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1, bias=not batch_norm)]
        layers += [nn.BatchNorm2d(cout)] if batch_norm else []
        layers += [nn.ReLU()]
        super().__init__(*layers)


class UNet(nn.Module):
    """Ronneberger et al.'s U-Net: an encoder of double 3x3 convolutions and 2x2 max pools,
    a decoder that upsamples (a 2x2 transposed convolution, or nearest-neighbour upsampling
    and a 1x1 convolution with ``up='upsample'``), concatenates the encoder's features of the
    same resolution (the skip connection) and applies a double convolution; a 1x1
    convolution maps to ``out_channels``. Input sides must be divisible by 2^depth."""

    def __init__(self, in_channels=1, out_channels=1, base=16, depth=3, up="transpose", batch_norm=True):
        super().__init__()
        if up not in ("transpose", "upsample"):
            raise ValueError(f"UNet: up must be 'transpose' or 'upsample', got {up!r}")
        self.depth = depth
        widths = [base * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList([_DoubleConv(in_channels, widths[0], batch_norm)] +
                                  [_DoubleConv(widths[i], widths[i + 1], batch_norm) for i in range(depth)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for i in reversed(range(depth)):
            if up == "transpose":
                self.up.append(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2))
            else:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(widths[i + 1], widths[i], 1)))
            self.merge.append(_DoubleConv(2 * widths[i], widths[i], batch_norm))
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x):
        side = 2 ** self.depth
        if x.shape[-1] % side or x.shape[-2] % side:
            raise ValueError(f"UNet: input sides {tuple(x.shape[-2:])} must be divisible by {side}")
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(_C.cat([up(x), skips.pop()], 1))
        return self.head(x)
