"""repsim's front ends: the `repsim` command and the Streamlit dashboard."""

import os as _os
import signal as _signal
import sys as _sys


def _early_exit(signum: int, frame: object) -> None:
    """Until `app.cli.main` takes over: Ctrl-C or SIGTERM during the imports exits quietly."""
    raise SystemExit(128 + signum)


# Only under the `repsim` console script (its imports take most of a second), not when imported.
if _os.path.basename(_sys.argv[0]) == "repsim":
    for _signum in (_signal.SIGINT, _signal.SIGTERM):
        _signal.signal(_signum, _early_exit)
