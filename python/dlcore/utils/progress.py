"""A small progress bar for training loops: ``for batch in progress(loader, desc="epoch 1")``.

Shows the count, the rate (items per second), the elapsed time and any values given to
``set_postfix`` (the loss, say); redraws at most ten times a second, on stderr, and only
when stderr is a terminal unless ``force=True`` (so logs and CI output stay clean).
"""
import sys
import time


class progress:
    def __init__(self, iterable=None, total=None, desc="", unit="it", file=None, force=False, width=24):
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total, self.desc, self.unit, self.width = total, desc, unit, width
        self.file = file or sys.stderr
        self.enabled = force or (hasattr(self.file, "isatty") and self.file.isatty())
        self.n, self.postfix = 0, {}
        self.start = self._last = time.perf_counter()

    def __iter__(self):
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_postfix(self, **values):
        self.postfix = values

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if self.enabled and now - self._last >= 0.1:
            self._last = now
            self._draw(now)

    def format(self, now=None):
        now = time.perf_counter() if now is None else now
        elapsed = now - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        if self.total:
            frac = min(self.n / self.total, 1.0)
            filled = int(frac * self.width)
            bar = f"|{'#' * filled}{'.' * (self.width - filled)}| {self.n}/{self.total}"
        else:
            bar = f"{self.n}"
        post = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.postfix.items())
        head = f"{self.desc}: " if self.desc else ""
        return f"{head}{bar} [{elapsed:.1f}s, {rate:.1f} {self.unit}/s]" + (f"  {post}" if post else "")

    def _draw(self, now):
        self.file.write("\r" + self.format(now))
        self.file.flush()

    def close(self):
        if self.enabled:
            self._draw(time.perf_counter())
            self.file.write("\n")
            self.file.flush()
            self.enabled = False
