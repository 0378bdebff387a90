"""The dashboard with its health check: `streamlit run app/serve.py [-- SCENARIO.toml]`.

Streamlit's own `/_stcore/health` says whether the server can take a browser; it cannot know
about repsim's worker pools, and Streamlit has no hook to extend it. `st.App` (Streamlit's
documented ASGI entry point, served by `streamlit run` as well as by uvicorn) takes extra
routes, so this file adds `/health`: 200 "ok" when the dashboard can run, 503 naming the pool
when a worker has died (the pool is then rebuilt in the background, so the next check and the
next run find it whole). Point a load balancer's or an orchestrator's probe at `/health`.

When the server has started, the default page's run is done once in the background and shared
by every session (app/first_page.py): a crowd's first pages are drawn without a run each.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

try:
    import app as _package  # noqa: F401  (installed, or run from the repository root's environment)
except ImportError:  # `streamlit run` puts app/ on sys.path, not the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app import first_page, runner

HEALTH = "/health"


async def health(request: Request) -> PlainTextResponse:
    """200 "ok", or 503 naming each worker pool with a dead worker (rebuilt meanwhile)."""
    broken = runner.broken()
    if broken:
        names = " and ".join(broken)
        return PlainTextResponse(
            f"unhealthy: a worker of the {names} pool died; the pool is being rebuilt", 503
        )
    return PlainTextResponse("ok")


@contextlib.asynccontextmanager
async def started(app: Any) -> AsyncIterator[None]:
    """Once Streamlit's runtime is up (its caches in place): the default page's run."""
    first_page.prepare_in_background()
    yield


streamlit_app = st.App(
    "main.py",
    routes=[Route(HEALTH, health, methods=["GET", "HEAD"], name="repsim-health")],
    lifespan=started,
)
