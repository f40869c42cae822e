"""Obsidian's side of the vault: the link model (`links`) and the vault-wide link check (`check`)."""
