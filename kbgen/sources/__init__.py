"""Where prices come from: Yahoo Finance, CSV files, the offline demo market."""


from ..errors import KbgenError


class SourceError(KbgenError):
    """A source cannot be used at all (network, proxy, certificates); the message names the fix."""
