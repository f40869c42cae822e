"""The package's stages depend one way: the build and `kbgen check` never load the site's code."""
from __future__ import annotations

import subprocess
import sys


def test_the_build_and_the_link_check_load_no_site_code():
    script = ("import sys, kbgen.jobs.build, kbgen.obsidian.check; "
              "print(sorted(m for m in sys.modules if m.startswith(('mkdocs', 'kbgen.site'))))")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
