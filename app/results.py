"""One run's figures for the dashboard: computed once per scenario, small enough to cache."""

from __future__ import annotations

import datetime
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd

import sim
from app import dates, files, runner
from app.charts import build_specs
from sim.needed import ratings_needed_in_time, ratings_needed_today

__all__ = [
    "RUNS",
    "Headline",
    "View",
    "compute_view",
    "compute_view_alone",
    "headline",
    "view_of",
]

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
    today: datetime.date | None = None  # week 0's date: weeks from today are also dates
    # with assumption uncertainty on: today's chance to win at the scenario's own assumptions
    # (what the Calculator shows), by arm; the run's week-0 mean is over the drawn assumptions
    win_prob_now: dict[str, float] | None = None

    def summary_json(self) -> bytes:
        """summary.json, as `repsim run` writes it."""
        return files.summary_json(self.summary)

    def bands_csv(self) -> bytes:
        """bands.csv, as `repsim run` writes it; built when the download is clicked."""
        return files.bands_csv(self.bands)

    def headlines_csv(self) -> bytes:
        """headlines.csv, as `repsim run` writes it: the three figures of each headline."""
        return files.headlines_csv(self.summary)

    def scenario_toml(self) -> bytes:
        """scenario.toml, as `repsim run` writes it."""
        return files.scenario_toml(sim.loads_scenario(self.toml, "settings"))


# figures of the scenario alone, computed in this process while the workers run it
_beside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="repsim-beside-run")


def _scenario_figures(sc: sim.Scenario) -> dict[str, float] | None:
    """What the page needs of the scenario alone, none of it from the run: ratings needed
    (today and in time; sim.needed remembers them by scenario, where the run's summary finds
    them) and today's win probability at the scenario's own assumptions."""
    ratings_needed_today(sc)
    ratings_needed_in_time(sc)
    return _own_win_prob(sc) if sc.uncertainty.on else None


def compute_view(toml: str) -> View:
    """Run the scenario given as canonical TOML and keep what the page needs."""
    sc = sim.loads_scenario(toml, "settings")
    RUNS["count"] += 1
    beside = _beside.submit(_scenario_figures, sc)  # while the run goes on
    result = run_in_parallel(sc)
    return view_of(toml, sc, result, win_prob_now=beside.result())


def compute_view_alone(toml: str) -> View:
    """`compute_view` in this process alone, for a worker process (app/prefetch.py): the same
    View, to the bit, since a run's result does not depend on how its paths are split."""
    sc = sim.loads_scenario(toml, "settings")
    return view_of(toml, sc, sim.run(sc))


def view_of(
    toml: str,
    sc: sim.Scenario,
    result: sim.Result,
    win_prob_now: dict[str, float] | None = None,
) -> View:
    """What the page draws from a finished run of ``sc`` (given as ``toml``); ``win_prob_now``
    when it is computed already (`_scenario_figures`)."""
    if win_prob_now is None and sc.uncertainty.on:
        win_prob_now = _own_win_prob(sc)
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
        specs=build_specs(result),
        bands=files.bands_frame(result),
        today=sc.today,
        win_prob_now=win_prob_now,
    )


def _own_win_prob(sc: sim.Scenario) -> dict[str, float]:
    """Week 0's win probability under each arm at the scenario's own assumptions (the same
    function as the Calculator: sim.engine.signals_today)."""
    return {t.arm: t.win_prob for t in sim.engine.signals_today(sc)}


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
    x = x if round(x) != 0 else 0.0  # no "-$0"
    text = f"${abs(x):,.0f}"
    return ("-" if x < 0 else "+" if sign else "") + text


def _num(x: float | None, fmt: str) -> str:
    if x is None:
        return "n/a"
    return format(x if float(format(x, fmt)) != 0 else 0.0, fmt)  # no "-0.0"


def comparison_sentence(
    summary: dict[str, Any], arm: str, today: datetime.date | None = None
) -> str:
    """The comparison of a rule with the reference in words, from the summary's figures
    (Markdown: the rule names in bold, dollars escaped, since st.markdown reads $...$ as LaTeX)."""
    d, ref, weeks = summary["differences"][arm], summary["reference"], summary["weeks"]
    jobs, money = d["jobs"]["mean"] or 0.0, d["earnings"]["mean"] or 0.0
    if round(abs(jobs), 1) == 0:
        jobs_words = "as many jobs"
    else:
        jobs_words = f"{abs(jobs):.1f} {'more' if jobs > 0 else 'fewer'} jobs"
    if round(abs(money)) == 0:
        money_words = "the same net earnings"
    else:
        money_words = f"\\${abs(money):,.0f} {'more' if money > 0 else 'less'} in net earnings"
    recover = recovery_words(d["weeks_to_recover"], weeks, ref, arm, today).clause
    return (
        f"With **{arm}** instead of **{ref}**, the freelancer has {jobs_words} and "
        f"{money_words} by week {weeks}, on average; {recover}."
    )


def supported(x: float, half_width: float | None) -> float:
    """``x`` rounded to the power of ten at or below its 90% interval's half-width: no digits
    the Monte Carlo error does not support."""
    if half_width is None or not math.isfinite(half_width) or half_width <= 0:
        return x
    step = 10.0 ** math.floor(math.log10(half_width))
    return round(x / step) * step


def two_figures(x: float) -> float:
    """``x`` to two significant figures (the ends of a range: its tails are not known finer)."""
    if x == 0 or not math.isfinite(x):
        return x
    step = 10.0 ** (math.floor(math.log10(abs(x))) - 1)
    return round(x / step) * step


def lead_sentence(summary: dict[str, Any], arm: str) -> str:
    """The three figures of the earnings difference in plain words (Markdown, dollars escaped):
    the mean, the range in 9 of 10 futures, and over the plausible range of the assumptions."""
    d, ref, weeks = summary["differences"][arm]["earnings"], summary["reference"], summary["weeks"]
    if d["mean"] is None:
        return ""
    mean = d["mean"]
    half = None if d["ci90"][0] is None else (d["ci90"][1] - d["ci90"][0]) / 2
    verb = "costs" if mean >= 0 else "gains"

    def dollars(x: float) -> str:
        x = x if round(x) != 0 else 0.0
        return ("-" if x < 0 else "") + f"\\${abs(x):,.0f}"

    futures = d.get("futures90") or [d["p05"], d["p95"]]
    text = (
        f"**{ref}** rather than **{arm}** {verb} the freelancer about "
        f"{dollars(abs(supported(mean, half)))} in net earnings by week {weeks}, on average; "
        f"in 9 of 10 futures the difference is between {dollars(two_figures(futures[0]))} and "
        f"{dollars(two_figures(futures[1]))}"
    )
    wide = d.get("assumptions90")
    if wide is None:
        return text + " (with the model's assumptions fixed at these settings)."
    return (
        f"{text}; over the plausible range of our assumptions, between "
        f"{dollars(two_figures(wide[0]))} and {dollars(two_figures(wide[1]))}."
    )


def now_figures(view: View, arm: str) -> list[Headline]:
    """Stars, JSS, win probability and ratings needed today, for one arm."""
    start = view.summary["arms"][arm]["start"]
    stars, jss = start["stars"]["q50"], start["jss"]["q50"]
    rising, top = start["rising_talent"]["mean"] or 0.0, start["top_rated"]["mean"] or 0.0
    badge = "Rising Talent" if rising >= 0.5 else "Top Rated" if top >= 0.5 else "no badge"
    timed = view.summary.get("ratings_needed_in_time", {}).get(arm, {})
    targets = timed.get("targets", {})
    return [
        Headline("Stars now", "no stars yet" if stars is None else f"{stars:.2f}"),
        Headline(
            "Job Success Score now",
            "none yet" if jss is None else f"{jss:.0f}%",
            f"badge: {badge}",
        ),
        _win_now(view, arm, start["win_prob"]["mean"]),
        Headline(
            "5-star contracts to 4.8",
            _contracts(targets.get("stars 4.8"), view.weeks),
            f"{_when(targets.get('stars 4.8'), view.today)}to a 90% JSS: "
            f"{_in_time(targets.get('jss 90'), view.weeks, view.today)}",
            _in_time_help(timed, view.weeks, view.today),
        ),
    ]


def _win_now(view: View, arm: str, run_mean: float) -> Headline:
    """Today's chance one proposal wins: at the scenario's own assumptions, as the Calculator
    gives it; with uncertainty on, the run's mean over the drawn assumptions is in its help."""
    if view.win_prob_now is None:
        return Headline(
            "Chance one proposal wins",
            f"{run_mean:.2%}",
            help="Today's win probability for one proposal under this rule.",
        )
    return Headline(
        "Chance one proposal wins",
        f"{view.win_prob_now[arm]:.2%}",
        help="Today's win probability for one proposal under this rule, at the settings on "
        f"this page; over the plausible range of the assumptions it averages {run_mean:.2%}.",
    )


def _contracts(target: dict[str, Any] | None, weeks: int) -> str:
    """How many further 5-star contracts reach the target (short: a metric's value)."""
    return f"not by wk {weeks}" if target is None else f"{target['ratings']}"


def _when(target: dict[str, Any] | None, today: datetime.date | None = None) -> str:
    if target is None or target["ratings"] == 0:
        return ""
    return f"by {dates.week_words(target['week'], today)}; "


def _in_time(target: dict[str, Any] | None, weeks: int, today: datetime.date | None = None) -> str:
    """ "6, by week 24 (15 May 2027)" for a target reached with 6 further 5-star contracts in
    week 24 (the date when the scenario has a today)."""
    if target is None:
        return f"not by {dates.week_words(weeks, today)}"
    if target["ratings"] == 0:
        return "already there"
    return f"{target['ratings']}, by {dates.week_words(target['week'], today)}"


def leaves_windows(timed: dict[str, Any], today: datetime.date | None = None) -> str:
    """ "the 26-week window in week 25 (29 May 2027), ...": when the disputed feedback stops
    counting in each JSS window (empty when it never counted or stays past the horizon)."""
    leaves = {w: at for w, at in timed.get("disputed_leaves_window", {}).items() if at is not None}
    ordered = sorted(leaves.items(), key=lambda item: int(item[0]))
    return ", ".join(f"the {w}-week window in {dates.week_words(at, today)}" for w, at in ordered)


def leaves_caption(view: View) -> str:
    """When the disputed feedback stops counting in each JSS window under the reference rule
    (empty when it never counts there or stays to the horizon), with dates when there is a
    today."""
    timed = view.summary.get("ratings_needed_in_time", {}).get(view.reference, {})
    leaves = leaves_windows(timed, view.today)
    if not leaves:
        return ""
    return f"Under {view.reference}, the disputed feedback stops counting in the JSS's {leaves}."


def _in_time_help(timed: dict[str, Any], weeks: int, today: datetime.date | None = None) -> str:
    every = timed.get("contract_weeks", 4.0)
    text = (
        f"Further 5-star contracts, one ending every {every:g} weeks, each from a new client, "
        "until the stars (by this rule's own aggregator) reach 4.8, and the JSS 90%; the week "
        "counts from today."
    )
    leaves = leaves_windows(timed, today)
    if leaves:
        text += f" The disputed feedback stops counting in the JSS's {leaves}."
    return text


def _ranges_words(f: dict[str, Any], fmt: Any) -> str:
    """5-95% across futures, and across futures and assumptions when they were drawn."""
    futures = f.get("futures90") or [f.get("p05"), f.get("p95")]
    text = f"5-95% of futures: {fmt(futures[0])} to {fmt(futures[1])}"
    wide = f.get("assumptions90")
    if wide is None:
        return text + " (assumptions fixed)."
    return f"{text}; over futures and assumptions: {fmt(wide[0])} to {fmt(wide[1])}."


def difference_figures(view: View, arm: str) -> list[Headline]:
    """Jobs and net earnings by the horizon, and recovery, for one arm against the reference."""
    d = view.summary["differences"][arm]
    jobs, money, rec = d["jobs"], d["earnings"], d["weeks_to_recover"]
    w, ref = view.weeks, view.reference
    return [
        Headline(
            f"Jobs by week {w}",
            _num(jobs["mean"], "+.1f"),
            f"90% interval {_num(jobs['ci90'][0], '.1f')} to {_num(jobs['ci90'][1], '.1f')}",
            f"{arm} minus {ref}, mean over {view.paths:,} futures; "
            + _ranges_words(jobs, lambda x: _num(x, ".0f")),
        ),
        Headline(
            f"Net earnings by week {w}",
            _money(money["mean"]),
            f"90% interval {_money(money['ci90'][0], False)} to {_money(money['ci90'][1], False)}",
            f"{arm} minus {ref}, after the service fee; "
            + _ranges_words(money, lambda x: _money(x, False)),
        ),
        recovery_headline(rec, w, ref, arm, view.today),
    ]


# -- recovery in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryWords:
    """Recovery told from the figures: a headline value, the line under it, and a clause for
    the sentence under each rule; none of them can contradict the others."""

    value: str
    note: str
    clause: str


RECOVERY_LABEL = "Weeks until the win rate is back (median)"


def share_words(x: float) -> str:
    """A share of futures in words: never "0%" for a few futures, nor "100%" for nearly all."""
    if x <= 0:
        return "no"
    if x < 0.005:
        return "under 1%"
    if x >= 1:
        return "all"
    if x > 0.995:
        return "over 99%"
    return f"{x:.0%}"


def _weeks(n: float) -> str:
    return "1 week" if n == 1 else f"{n:.0f} weeks"


def recovery_words(
    rec: dict[str, Any],
    weeks: int,
    reference: str,
    arm: str,
    today: datetime.date | None = None,
) -> RecoveryWords:
    """Words for `summary["differences"][arm]["weeks_to_recover"]`: its "median" (the lasting
    week: from then on the reference's win rate stays at 95% of the arm's or more; 0 when it
    never fell short; None when most futures are not back for good by the horizon) and
    "share_not_recovered", with the first week back under "first" (same form), noted when it
    comes sooner. With `today`, each week is also given as a date."""
    first = rec.get("first")
    if not isinstance(first, dict):  # a summary with one recovery figure
        return _recovery(rec, weeks, reference, arm, "", today)
    words = _recovery(rec, weeks, reference, arm, "for good ", today)
    if first.get("median") not in (None, rec.get("median")):
        words = RecoveryWords(
            words.value,
            f"{words.note}; first back by {dates.week_words(first['median'], today)} (median)",
            words.clause,
        )
    drawn = _over_assumptions(rec.get("assumptions90"), _weeks(weeks), today)
    if drawn:
        words = RecoveryWords(words.value, f"{words.note}; {drawn}", f"{words.clause}; {drawn}")
    return words


def _over_assumptions(a: dict[str, Any] | None, horizon: str, today: datetime.date | None) -> str:
    """How far the lasting recovery moves over the assumptions' plausible ranges (uncertainty
    on), in words; "" with fixed assumptions."""
    if not a:
        return ""
    lo, hi = a["median"]
    prefix = "over the plausible range of our assumptions"
    if lo is not None:
        if hi is not None and hi <= 0:
            return f"{prefix}, half the futures never fall short under any of them"

        def back(w: float | None) -> str:
            if w is None:
                return f"are not back for good within {horizon}"
            return (
                "never fall short"
                if w <= 0
                else f"are back for good by {dates.week_words(w, today)}"
            )

        return f"{prefix}, half the futures {back(lo)} at best and {back(hi)} at worst"
    low, high = a["share_not_recovered"]
    if share_words(low) == share_words(high):
        return f"{prefix}, still {share_words(low)} of futures are not back for good"
    return (
        f"{prefix}, between {share_words(low)} and {share_words(high)} of futures are not back "
        f"for good within {horizon}"
    )


def _recovery(
    rec: dict[str, Any],
    weeks: int,
    reference: str,
    arm: str,
    stays: str,
    today: datetime.date | None = None,
) -> RecoveryWords:
    median, never = rec.get("median"), float(rec.get("share_not_recovered") or 0.0)
    horizon = _weeks(weeks)
    ref_rate = f"{reference}'s win rate"
    short = f"falls below 95% of {arm}'s"
    if median is not None and median <= 0:  # most futures never fall short: nothing to recover
        if never <= 0:
            return RecoveryWords(
                "no shortfall",
                f"in no future does {ref_rate} fall below 95% of {arm}'s",
                f"{ref_rate} never {short} in any future, so there is nothing to recover from",
            )
        return RecoveryWords(
            "no shortfall",
            f"in most futures; in {share_words(never)} of futures it {short} and is not back "
            f"{stays}within {horizon}",
            f"in most futures {ref_rate} never {short}; in {share_words(never)} it does and is "
            f"not back {stays}within {horizon}",
        )
    if median is None:
        return RecoveryWords(
            f"> {horizon}",  # short: a metric value (the note says it in words)
            f"{share_words(never)} of futures are not back {stays}within {horizon}",
            f"in {share_words(never)} of futures {ref_rate} {short} and is not back {stays}"
            f"within {horizon}",
        )
    if never <= 0:
        note = f"every future is back {stays}within {horizon}"
        tail = f"every future is back {stays}within {horizon}"
    else:
        note = f"{share_words(never)} of futures are not back {stays}within {horizon}"
        tail = f"in {share_words(never)} of futures it is not back {stays}within {horizon}"
    if today is not None:
        note = f"back by {dates.day(dates.on(today, median))} (median); {note}"
    return RecoveryWords(
        _weeks(median),
        note,
        f"in half the futures or more {ref_rate} is back {stays}to 95% of {arm}'s (or never "
        f"fell below it) by {dates.week_words(median, today)}; {tail}",
    )


def recovery_headline(
    rec: dict[str, Any],
    weeks: int,
    reference: str,
    arm: str,
    today: datetime.date | None = None,
) -> Headline:
    words = recovery_words(rec, weeks, reference, arm, today)
    return Headline(
        RECOVERY_LABEL,
        words.value,
        words.note,
        f"The week (from today) {reference}'s win probability is back to at least 95% of "
        f"{arm}'s on the same future, after first falling short of it; a future where it never "
        "falls short needs no recovery. Median over futures.",
    )


def headline(view: View) -> dict[str, list[Headline]]:
    """Every headline figure by arm: today's signals, and differences for non-reference arms."""
    out = {arm: now_figures(view, arm) for arm in view.arms}
    for arm in view.arms[1:]:
        out[arm] = out[arm] + difference_figures(view, arm)
    return out
