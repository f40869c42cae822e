"""Where prices come from: Yahoo Finance, CSV files, the offline demo market."""


class SourceError(Exception):
    """A source cannot be used at all (network, proxy, certificates); the message names the fix."""
