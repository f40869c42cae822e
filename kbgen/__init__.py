"""kbgen: turns daily market data into an Obsidian research vault and a published site."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kbgen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
