"""What loading the app costs at a cold start, as the Functions worker loads it: held in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("core", "api", "usecases", "activities", "orchestrators", "tools", "timers")

# Every dataclass of the project's modules loaded with function_app, nested ones too, whose docstring is
# the one @dataclass generated for lack of its own ("Name(field: type, ...)").
PROBE = """
import dataclasses, json, sys
import function_app

def classes(owner, module):
    for value in vars(owner).values():
        if isinstance(value, type) and value.__module__ == module:
            yield value
            yield from classes(value, module)

generated = sorted(
    f"{name}.{cls.__qualname__}"
    for name, module in list(sys.modules.items()) if name.split(".")[0] in %r
    for cls in classes(module, name)
    if dataclasses.is_dataclass(cls) and (cls.__doc__ or "").startswith(cls.__name__ + "("))
print(json.dumps(generated))
""" % (LAYERS,)


def test_no_dataclass_loaded_at_start_up_has_a_generated_docstring():
    """Python 3.11's @dataclass builds a missing docstring with inspect.signature, about 0.25 ms a class
    paid at every cold start: each dataclass the app loads says in one line why it exists instead."""
    loaded = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    generated = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert generated == [], (
        f"{len(generated)} dataclass(es) loaded at start-up have no docstring of their own, so @dataclass "
        f"builds one with inspect.signature (about 0.25 ms each at every cold start): {', '.join(generated)}. "
        "Give each a one-line docstring saying why it exists.")
