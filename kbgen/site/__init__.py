"""The site stage: `publish` runs mkdocs on the vault; `plugin` is the mkdocs plugin `kbgen`, built
from `markdown` (link rewriting), `nav`, `backlinks`, `tags`, `feed`, `sanitize` and `offline`."""
