"""Search in a site opened from disk (file://), without any request to an outside host."""
from __future__ import annotations

import json

FILE_WORKER_SHIM = "assets/javascripts/kbgen-file-worker.js"
SEARCH_WORKER = "assets/javascripts/workers/search.*.min.js"


def file_worker_shim(worker_source: str) -> str:
    """A script for file:// pages: browsers refuse to start a Web Worker from a file, and Material's
    search runs in one. Material's offline plugin points at a shim on a CDN for this; the site must
    not request an outside host, so the worker is started from an in-page copy of its script."""
    return (
        "// kbgen: lets Material's search worker start when the site is opened from disk.\n"
        "(function () {\n"
        '  if (location.protocol !== "file:") return;\n'
        f"  var source = {json.dumps(worker_source)};\n"
        "  var NativeWorker = window.Worker;\n"
        "  window.Worker = function (url, options) {\n"
        '    if (String(url).indexOf("/workers/search.") < 0) return new NativeWorker(url, options);\n'
        '    return new NativeWorker(URL.createObjectURL(new Blob([source], {type: "text/javascript"})), options);\n'
        "  };\n"
        "})();\n"
    )
