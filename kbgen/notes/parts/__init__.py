"""Note parts, one module each; importing this package registers them all (see `..registry`)."""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
