"""The jobs a user runs: init a project, build the vault, update (fetch, build, publish), the demo."""
