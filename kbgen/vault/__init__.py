"""The vault stage: writing notes without destroying a researcher's work.

`writer` merges rendered notes into the files on disk, `blocks` and `frontmatter` are the two
parts of a note kbgen owns, `state` is what kbgen keeps in `.kbgen/` (manifest, journal, lock)
and how it writes a file atomically, `paths` says where a note may go, `record` what the last
completed build and publish were.
"""
