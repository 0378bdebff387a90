"""Shared fixtures."""

from __future__ import annotations

import pytest
from helpers import REFERENCE

import sim


@pytest.fixture
def reference() -> sim.Scenario:
    return sim.load_scenario(REFERENCE)
