"""Imported in the dashboard's forkserver (its preload) so that the forkserver dies with the app.

The pool's workers are the forkserver's children and die with it (`app.pool.worker_init`); they
also hold the forkserver's "alive" pipe, so without this the forkserver and its workers would
outlive a killed server, waiting on each other.
"""

from app.pool import die_with_parent

die_with_parent()
