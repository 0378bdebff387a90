"""repsim's front ends: the `repsim` command and the Streamlit dashboard."""

import _signal  # the interpreter's own, already loaded: no import time before the handlers
import os as _os
import sys as _sys


def _early_exit(signum: int, frame: object) -> None:
    """Until `app.cli.main` takes over: Ctrl-C or SIGTERM during the imports exits quietly, at
    once (nothing is written yet; an exception here could be wrapped by a library's import)."""
    _os._exit(128 + signum)


# Only under the `repsim` console script (its imports take most of a second), not when imported.
if _os.path.basename(_sys.argv[0]) == "repsim":
    _signal.signal(_signal.SIGINT, _early_exit)
    _signal.signal(_signal.SIGTERM, _early_exit)
