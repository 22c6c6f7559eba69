"""What a kernel cell shows besides its text: matplotlib figures as PNG, and IPython set up to run the
cell as Jupyter does (plain-text results, PNG display output, no prompts, errors left to the kernel).

Run inside the sandbox beside kernel.py (never imported by the app): the standard library and
IPython only, imported by kernel.py before any user code.
"""

from __future__ import annotations

import io
import sys
import warnings

MAX_IMAGES = 20


class Figures:
    """Renders open matplotlib figures to PNG; patches `plt.show` as soon as pyplot is imported."""

    def __init__(self) -> None:
        self.images: list[bytes] = []
        self.dropped = 0
        self._shown: set[int] = set()  # figures the cell displayed itself (display(fig), `fig` last)
        self._patched = False
        sys.meta_path.insert(0, self)  # find_spec below: a finder that only watches for pyplot

    # importlib finder protocol: never finds anything itself, only patches pyplot after it loads
    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib.pyplot" or self._patched:
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader_exec = spec.loader.exec_module

        def exec_module(module):
            loader_exec(module)
            self._patch(module)

        spec.loader.exec_module = exec_module
        return spec

    def _patch(self, pyplot) -> None:
        if self._patched:
            return
        self._patched = True
        figures = self

        def show(*args, **kwargs):
            figures.capture()

        pyplot.show = show

    def capture(self) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is None:
            return
        self._patch(pyplot)
        shown, self._shown = self._shown, set()
        for number in list(pyplot.get_fignums()):
            figure = pyplot.figure(number)
            try:
                if id(figure) in shown:
                    continue  # displayed already; a notebook would show it twice, once is what was meant
                if len(self.images) < MAX_IMAGES:
                    self.add(self._png(figure))
                else:
                    self.dropped += 1
            finally:
                pyplot.close(figure)

    def render(self, figure) -> bytes:
        """A figure's PNG for IPython's image/png formatter (as Jupyter's inline backend registers one):
        `display(fig)` and a cell ending in `fig` show it; the end of the cell does not show it again."""
        self._shown.add(id(figure))
        return self._png(figure)

    @staticmethod
    def _png(figure) -> bytes:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def add(self, png: bytes) -> None:
        """A PNG the code displayed itself (`display(Image(...))`), within the same bound."""
        if len(self.images) < MAX_IMAGES:
            self.images.append(png)
        else:
            self.dropped += 1

    def take(self) -> list[bytes]:
        images, self.images = self.images, []
        return images


def cell_shell(figures: Figures):
    """An IPython shell that shows results as plain text, sends PNGs to `figures` and leaves errors
    to the kernel. Imported here, after the limits are set and the user's stdin is gone."""
    import base64 as b64

    from IPython.core.compilerop import CachingCompiler
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class CellNames(CachingCompiler):
        def get_code_name(self, raw_code, transformed_code, number):
            return f"<cell {number}>"

    def png_bytes(png) -> bytes:
        return b64.b64decode(png) if isinstance(png, str) else bytes(png)

    class PlainResult(DisplayHook):
        def write_output_prompt(self):  # a notebook shows the value, not an "Out[n]:" prompt
            pass

        # A notebook's execute_result: the image when the value has one (a figure, a PIL image), else its
        # text as is: no blank line before a multi-line value, which a terminal adds after its prompt.
        def write_format_data(self, format_dict, md_dict=None):
            png = format_dict.get("image/png")
            if png is not None:
                figures.add(png_bytes(png))
            elif "text/plain" in format_dict:
                print(format_dict["text/plain"])

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False):
            png = data.get("image/png")
            if png is not None:
                figures.add(png_bytes(png))
            elif "text/plain" in data:
                print(data["text/plain"])

    class CellShell(InteractiveShell):
        compiler_class = CellNames
        displayhook_class = PlainResult
        display_pub_class = Publisher
        system = InteractiveShell.system_raw  # `!` lines write to the cell's output as they run, no pty

        # the kernel reports a cell's error itself (`Kernel._format`), from the run's result
        def showtraceback(self, *args, **kwargs):
            pass

        def showsyntaxerror(self, *args, **kwargs):
            pass

        def showindentationerror(self, *args, **kwargs):
            pass

    warnings.filterwarnings("ignore", message="To exit: use")  # sys.exit() in a cell is its error, no more
    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.separate_in = ""
    config.InteractiveShell.separate_out = ""
    config.InteractiveShell.separate_out2 = ""
    config.InteractiveShell.xmode = "plain"
    shell = CellShell.instance(config=config)
    # Looked up by name: nothing is imported until the code makes a figure.
    formatter = shell.display_formatter
    assert formatter is not None  # made by InteractiveShell's init
    formatter.formatters["image/png"].for_type_by_name("matplotlib.figure", "Figure", figures.render)
    return shell
