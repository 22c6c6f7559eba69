"""`make bench`: run every benchmark module and print its figures."""

import importlib
import pkgutil

import bench

for module_info in pkgutil.iter_modules(bench.__path__):
    if not module_info.name.startswith("_"):
        print(f"== {module_info.name}")
        importlib.import_module(f"bench.{module_info.name}").main()
