"""One run's figures for the dashboard: computed once per scenario, small enough to cache."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

import sim
from app import runner
from app.charts import build_specs

__all__ = ["RUNS", "Headline", "View", "compute_view", "headline"]

RUNS = {"count": 0}  # simulations run in this process: one per distinct scenario, thanks to caching


def run_in_parallel(sc: sim.Scenario) -> sim.Result:
    """`sim.run` on the app's self-healing worker pools (app/runner.py): the same result, sooner."""
    return runner.run(sc)


@dataclass(frozen=True)
class View:
    """What the Compare page draws and exports; holds no per-path arrays."""

    toml: str
    sha256: str
    name: str
    arms: tuple[str, ...]
    reference: str
    paths: int
    weeks: int
    seed: int
    summary: dict[str, Any]
    specs: dict[str, dict[str, Any]]  # Vega-Lite, by chart name
    bands: pd.DataFrame  # tidy: arm, metric, week, q05..q95, mean

    def summary_json(self) -> str:
        return json.dumps(self.summary, indent=2)

    def bands_csv(self) -> str:
        """The bands.csv table; built when the download is clicked."""
        buf = io.StringIO()
        self.bands.to_csv(buf, index=False)
        return buf.getvalue()


def compute_view(toml: str) -> View:
    """Run the scenario given as canonical TOML and keep what the page needs."""
    sc = sim.loads_scenario(toml, "settings")
    RUNS["count"] += 1
    result = run_in_parallel(sc)
    specs = build_specs(result)
    return View(
        toml=toml,
        sha256=sc.sha256(),
        name=sc.name,
        arms=result.arms,
        reference=result.reference,
        paths=result.paths,
        weeks=result.weeks,
        seed=result.seed,
        summary=result.summary(),
        specs=specs,
        bands=pd.DataFrame(result.bands_rows()),
    )


@dataclass(frozen=True)
class Headline:
    """Formatted figures for st.metric: label, value and the line under it."""

    label: str
    value: str
    note: str = ""
    help: str = ""


def _money(x: float | None, sign: bool = True) -> str:
    if x is None:
        return "n/a"
    text = f"${abs(x):,.0f}"
    return ("-" if x < 0 else "+" if sign else "") + text


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def now_figures(view: View, arm: str) -> list[Headline]:
    """Stars, JSS, win probability and ratings needed today, for one arm."""
    start = view.summary["arms"][arm]["start"]
    stars, jss = start["stars"]["q50"], start["jss"]["q50"]
    rising, top = start["rising_talent"]["mean"] or 0.0, start["top_rated"]["mean"] or 0.0
    badge = "Rising Talent" if rising >= 0.5 else "Top Rated" if top >= 0.5 else "no badge"
    needed = view.summary["ratings_needed"].get(arm, {})
    to_48 = needed.get("mean", {}).get("4.8")
    to_90 = needed.get("jss", {}).get("90")
    return [
        Headline("Stars now", "no stars yet" if stars is None else f"{stars:.2f}"),
        Headline(
            "Job Success Score now",
            "none yet" if jss is None else f"{jss:.0f}%",
            f"badge: {badge}",
        ),
        Headline(
            "Chance one proposal wins",
            f"{start['win_prob']['mean']:.2%}",
            help="Today's win probability for one proposal under this rule.",
        ),
        Headline(
            "5-star ratings to reach 4.8",
            "unreachable" if to_48 is None else f"{to_48:.0f}",
            "" if to_90 is None else f"{to_90:.0f} to reach a 90% JSS",
            "Closed form: further 5-star contracts (dollar-weighted mean) from today.",
        ),
    ]


def difference_figures(view: View, arm: str) -> list[Headline]:
    """Jobs and net earnings by the horizon, and recovery, for one arm against the reference."""
    d = view.summary["differences"][arm]
    jobs, money, rec = d["jobs"], d["earnings"], d["weeks_to_recover"]
    w, ref = view.weeks, view.reference
    median, never = rec["median"], rec["share_not_recovered"]
    return [
        Headline(
            f"Jobs by week {w}",
            _num(jobs["mean"], "+.1f"),
            f"90% interval {_num(jobs['ci90'][0], '.1f')} to {_num(jobs['ci90'][1], '.1f')}",
            f"{arm} minus {ref}, mean over {view.paths:,} futures; 5-95% of futures: "
            f"{_num(jobs['p05'], '.0f')} to {_num(jobs['p95'], '.0f')}.",
        ),
        Headline(
            f"Net earnings by week {w}",
            _money(money["mean"]),
            f"90% interval {_money(money['ci90'][0], False)} to {_money(money['ci90'][1], False)}",
            f"{arm} minus {ref}, after the service fee; 5-95% of futures: "
            f"{_money(money['p05'], False)} to {_money(money['p95'], False)}.",
        ),
        Headline(
            "Median weeks to recover",
            f"not within {w}" if median is None else f"{median:.0f}",
            f"{never:.0%} of futures never recover within {w} weeks",
            f"The week {ref}'s win probability is back to 95% of {arm}'s on the same future, "
            "counted from the week it first fell short (0 when it never did).",
        ),
    ]


def headline(view: View) -> dict[str, list[Headline]]:
    """Every headline figure by arm: today's signals, and differences for non-reference arms."""
    out = {arm: now_figures(view, arm) for arm in view.arms}
    for arm in view.arms[1:]:
        out[arm] = out[arm] + difference_figures(view, arm)
    return out
