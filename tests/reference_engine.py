"""Scalar reference of docs/simulation.md: one path and one arm at a time, every contract listed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from sim import reputation, rules
from sim.market import HiringMarket, build_market, solve_intercept, utility
from sim.scenario import Arm, Scenario

BLOCK_PATHS = 256
PAGE = 32  # contract ordinals per page of uniforms
METRICS = ("stars", "jss", "win_prob", "active", "jobs", "earnings", "badge")
INT_METRICS = ("active", "jobs", "badge")
NO_BADGE, RISING_TALENT, TOP_RATED = 0, 1, 2
TOP_RATED_WEEKS, TOP_RATED_OF_WEEKS = 13, 16
TOP_RATED_EARNED, TOP_RATED_EARNED_WEEKS, TOP_RATED_FIRST_WEEKS = 1000.0, 52, 13

# Rows of a page of contract uniforms: one contract attribute each.
STARS, DURATION, FEEDBACK_LEFT, FEEDBACK_DELAY, RATINGS_GIVEN, HARSH, SUSPENDED = range(7)


# -- random numbers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """A future contract's attributes, fixed by its ordinal on the path (common to every arm)."""

    stars: int
    duration: int
    feedback_left: bool
    feedback_delay: int
    client_ratings_given: int
    client_harsh: bool  # a harsh client: rates her harshly, gives and receives poor feedback
    client_mean_given: float
    client_mean_received: float
    client_suspended: bool


@dataclass(frozen=True)
class PathDraws:
    """Everything random on one path: proposal uniforms by week and slot, contracts by ordinal."""

    proposals: list[list[float]]  # [week][slot]
    contracts: list[Contract]  # [ordinal]
    flagged_suspension: float  # U_path


def decode_stars(u: float, quality_cdf: list[float]) -> int:
    """The smallest s in 1..5 with u < cumsum(quality)[s - 1]; 5 if none."""
    for s, c in enumerate(quality_cdf, start=1):
        if u < c:
            return s
    return 5


def decode_duration(u: float, contract_weeks: float) -> int:
    """Geometric weeks >= 1 with mean `contract_weeks`."""
    p = 1.0 / contract_weeks
    if p == 1.0:
        return 1
    return 1 + math.floor(math.log(1.0 - u) / math.log(1.0 - p))


def decode_ratings_given(u: float, mean: float) -> int:
    """Geometric count >= 0 with mean `mean`."""
    if mean == 0:
        return 0
    return math.floor(math.log(1.0 - u) / math.log(mean / (1.0 + mean)))


def decode_contract(sc: Scenario, u: list[float], quality_cdf: list[float]) -> Contract:
    """One contract from its seven uniforms (already float64)."""
    m, d = sc.market, sc.signals.feedback_delay_weeks
    harsh = u[HARSH] < m.harsh_client_share
    stars = decode_stars(u[STARS], quality_cdf)
    if harsh:  # a harsh client takes harsh_client_shift stars off what she earns, down to 1
        stars = max(stars - m.harsh_client_shift, 1)
    return Contract(
        stars=stars,
        duration=decode_duration(u[DURATION], m.contract_weeks),
        feedback_left=u[FEEDBACK_LEFT] < sc.signals.feedback_rate,
        feedback_delay=min(math.floor(u[FEEDBACK_DELAY] * (d + 1)), d),
        client_ratings_given=decode_ratings_given(u[RATINGS_GIVEN], m.client_ratings_given_mean),
        client_harsh=harsh,
        client_mean_given=m.harsh_client_mean if harsh else m.client_mean_given,
        client_mean_received=m.harsh_client_mean_received if harsh else m.client_mean_received,
        client_suspended=u[SUSPENDED] < m.client_suspension_rate,
    )


def block_draws(sc: Scenario, block: int, n: int) -> list[PathDraws]:
    """The draws of the first n paths of block `block`, from its own generator, in the spec's
    order: proposal uniforms, U_path, then pages of 32 contract ordinals until K = C * W are
    covered, always drawn for a full block of 256 paths."""
    weeks, slots = sc.run.weeks, sc.freelancer.proposals_per_week
    ordinals = sc.freelancer.capacity * weeks
    seq = np.random.SeedSequence(sc.run.seed, spawn_key=(1, block))
    g = np.random.Generator(np.random.PCG64(seq))
    full = BLOCK_PATHS
    u_prop = g.random((weeks, slots, full), dtype=np.float32)
    u_path = g.random(full)
    pages = [g.random((7, full, PAGE), dtype=np.float32) for _ in range(-(-ordinals // PAGE))]
    quality_cdf = list(accumulate(float(q) for q in sc.freelancer.quality))
    out = []
    for i in range(n):
        proposals = [[float(u) for u in u_prop[t, :, i]] for t in range(weeks)]
        contracts = [
            decode_contract(
                sc, [float(pages[k // PAGE][r, i, k % PAGE]) for r in range(7)], quality_cdf
            )
            for k in range(ordinals)
        ]
        out.append(PathDraws(proposals, contracts, float(u_path[i])))
    return out


def all_draws(sc: Scenario, paths: int) -> list[PathDraws]:
    """Draws of paths 0..paths-1, block by block of 256."""
    out: list[PathDraws] = []
    for block, start in enumerate(range(0, paths, BLOCK_PATHS)):
        out += block_draws(sc, block, min(BLOCK_PATHS, paths - start))
    return out


# -- feedback and the rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Feedback:
    """One feedback in the counted set: what the signals need, and when the rule removes it."""

    stars: float
    value: float
    end_week: int  # history: -ended_weeks_ago
    client: int
    removal_week: int | None  # start of the week the rule removes it (None: never)
    removal_scope: str = "all"  # what it is removed from: "all" (stars and JSS) or "jss"

    def counts(self, week: int, signal: str) -> bool:
        """Whether it counts in `signal` ("stars" or "jss") during week `week`."""
        if self.removal_week is None or self.removal_week > week:
            return True
        return signal == "stars" and self.removal_scope == "jss"


def client_ids(sc: Scenario) -> list[int]:
    """History clients by name (0, 1, ... in order of first appearance)."""
    ids: dict[str, int] = {}
    return [ids.setdefault(h.client, len(ids)) for h in sc.history]


def flagged(arm: Arm, count: int, given: float | None, received: float | None) -> bool:
    """flagged_client: the client's record (what it received from freelancers, or what it gave,
    as the arm says) has at least min_ratings ratings with a mean below threshold."""
    if arm.rule != "flagged_client":
        return False
    mean = received if arm.flag_on == "received" else given
    return mean is not None and count >= arm.min_ratings and mean < arm.threshold


def against(sc: Scenario, arm: Arm, stars: float) -> bool:
    """Whether the rule may remove this feedback: all of it, or (only_against) only feedback
    that counts against her, below jss.success_at."""
    return not getattr(arm, "only_against", False) or stars < sc.jss.success_at


NEVER = -(10**9)  # a removal week before any week: removed from the start


def history_feedback(sc: Scenario, arm: Arm, flagged_suspension: float) -> list[Feedback]:
    """History feedback passed through the rule at the start (before week 0), in file order.

    Removals due at week 0 (exclude_flagged or suspended_client with delay 0, window(last_weeks)
    for aged history) are left to week 0's rule events; with nothing observed in between, this is
    the same as dropping them at the start.
    """
    stars = sc.history_stars()
    clients = client_ids(sc)
    out = []
    for h, entry in enumerate(sc.history):
        if math.isnan(stars[h]):
            continue  # no feedback left
        x = float(stars[h])
        scope = getattr(arm, "scope", "all")
        removal = None
        end = -entry.ended_weeks_ago
        record = (entry.client_ratings_given, entry.client_mean_given, entry.client_mean_received)
        if flagged(arm, *record) and against(sc, arm, x):
            if scope == "all":
                continue
            removal = NEVER
        elif arm.rule == "exclude_flagged" and entry.flagged:
            removal = arm.delay_weeks
        elif arm.rule == "suspended_client":
            suspended = entry.client_suspended or (
                entry.flagged and flagged_suspension < arm.probability
            )
            removal = arm.delay_weeks if suspended and against(sc, arm, x) else None
        elif arm.rule == "window" and arm.last_weeks is not None:
            removal = end + arm.last_weeks
        out.append(Feedback(x, entry.value, end, clients[h], removal, scope))
    if arm.rule == "window" and arm.last_n is not None:
        out = out[-arm.last_n :]
    return out


def future_feedback(
    sc: Scenario, arm: Arm, c: Contract, end: int, value: float, client: int, arrival: int
) -> Feedback | None:
    """A future contract's feedback arriving at week `arrival`, or None when the rule refuses it
    (a refusal by the JSS only keeps it, removed from the JSS from the start)."""
    scope = getattr(arm, "scope", "all")
    removal = None
    record = (c.client_ratings_given, c.client_mean_given, c.client_mean_received)
    if flagged(arm, *record) and against(sc, arm, c.stars):
        removal = NEVER
    elif arm.rule == "suspended_client" and c.client_suspended and against(sc, arm, c.stars):
        removal = arrival + arm.delay_weeks
    elif arm.rule == "window" and arm.last_weeks is not None:
        removal = end + arm.last_weeks
    if removal is not None and removal <= arrival and scope == "all":
        return None  # flagged, suspended with delay 0, or already too old for the window
    return Feedback(float(c.stars), value, end, client, removal, scope)


# -- signals ---------------------------------------------------------------------------------------


def round_stars(x: float) -> float:
    """Stars as shown: rounded to 0.01, halves up (NaN stays NaN)."""
    return float(np.floor(x * 100.0 + 0.5) / 100.0)


def shown_feedback(arm: Arm, counted: list[Feedback]) -> list[Feedback]:
    """The feedback the signals use: the counted set, after the whitby filter for that rule."""
    if arm.rule != "whitby" or not counted:
        return counted
    kept = rules.whitby_filter(np.array([f.stars for f in counted]), arm.q, arm.binary_threshold)
    return [f for f, k in zip(counted, np.asarray(kept), strict=True) if k]


def stars_signal(sc: Scenario, aggregator: str, fb: list[Feedback], week: int) -> float:
    """The shown feedback's stars by `aggregator` (NaN when there is none)."""
    if not fb:
        return math.nan
    s = sc.signals
    stars = np.array([f.stars for f in fb])
    weights = np.array([f.value for f in fb]) if s.weighting == "value" else np.ones(len(fb))
    if aggregator == "mean":
        out = reputation.weighted_mean(stars, weights)
    elif aggregator == "median":
        out = reputation.median(stars)
    elif aggregator == "bayesian":
        out = reputation.bayesian_average(stars, s.prior_mean, s.prior_weight, weights)
    elif aggregator == "beta":
        ages = np.array([week - f.end_week for f in fb], dtype=float)
        # weights 1 whatever signals.weighting says: each rating is one unit of evidence
        out = 1.0 + 4.0 * reputation.beta_reputation(stars, None, s.forgetting, ages=ages)
    elif aggregator == "wilson":
        positive = int(np.sum(stars >= s.positive_at))
        out = 1.0 + 4.0 * reputation.wilson_lower_bound(positive, len(fb), s.z)
    else:  # star_lower_bound
        levels = np.clip(np.floor(stars + 0.5), 1, 5).astype(int)
        counts = np.bincount(levels - 1, minlength=5).astype(float)
        out = reputation.star_lower_bound(counts, s.z)
    return float(np.clip(out, 1.0, 5.0))  # shown on the 1-5 scale (a lower bound can dip below 1)


def job_success(sc: Scenario, fb: list[Feedback], week: int, implied: bool = False) -> float:
    """Job Success Score over the shown feedback (NaN when no window qualifies); with
    ``implied``, the score of any window with feedback (no minimum of contracts or clients)."""
    if not fb:
        return math.nan
    settings = sc.jss.closed_form_args()
    if implied:
        settings.update(min_contracts=1, min_clients=1)
    score = reputation.job_success_score(
        np.array([f.stars for f in fb]),
        np.array([f.value for f in fb]),
        np.array([week - f.end_week for f in fb], dtype=float),
        np.array([f.client for f in fb]),
        **settings,
    )
    return math.nan if score is None else float(score)


# -- one path, one arm -----------------------------------------------------------------------------


@dataclass
class PathRun:
    """The state of one arm on one path, advanced week by week in the spec's order."""

    sc: Scenario
    arm: Arm
    draws: PathDraws
    market_mean: float
    counted: list[Feedback] = field(default_factory=list)
    slots: list[int | None] = field(default_factory=list)  # contract ordinal per slot
    ends: dict[int, int] = field(default_factory=dict)  # ordinal -> end week
    pending: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    next_ordinal: int = 0
    first_start: int | None = None
    jss: float = math.nan
    judged_jss: float = math.nan  # the shown JSS, else the one the feedback implies
    at_90: list[bool] = field(default_factory=list)  # JSS >= 90, per week so far
    active_by_week: list[int] = field(default_factory=list)
    jobs: int = 0
    contract_weeks: int = 0
    history_clients: int = field(init=False)  # future contract k has client history_clients + k
    gross: float = field(init=False)
    net: float = field(init=False)

    def __post_init__(self) -> None:
        self.slots = [None] * self.sc.freelancer.capacity
        self.counted = history_feedback(self.sc, self.arm, self.draws.flagged_suspension)
        self.history_clients = len(set(client_ids(self.sc)))
        self.gross = self.sc.freelancer.hourly_rate * self.sc.freelancer.hours_per_week
        self.net = self.gross * (1.0 - self.sc.freelancer.service_fee)

    # 1
    def contracts_end(self, t: int) -> None:
        for j, k in enumerate(self.slots):
            if k is None or self.ends[k] != t:
                continue
            self.slots[j] = None
            c = self.draws.contracts[k]
            if c.feedback_left:
                self.pending.setdefault(t + c.feedback_delay, []).append((j, c.feedback_delay, k))

    # 2
    def rule_events(self, t: int) -> None:
        self.counted = [f for f in self.counted if f.counts(t, "stars")]

    # 3
    def feedback_arrives(self, t: int) -> None:
        for _, _, k in sorted(self.pending.pop(t, [])):
            c = self.draws.contracts[k]
            fb = future_feedback(
                self.sc,
                self.arm,
                c,
                end=self.ends[k],
                value=self.gross * c.duration,
                client=self.history_clients + k,
                arrival=t,
            )
            if fb is None:
                continue
            self.counted.append(fb)
            if self.arm.rule == "window" and self.arm.last_n is not None:
                self.counted = self.counted[-self.arm.last_n :]

    # 4
    def signals(self, t: int) -> tuple[float, float, int, float]:
        """(stars, jss, badge, utility) at week t; updates the held JSS."""
        fb = shown_feedback(self.arm, self.counted)
        stars = stars_signal(self.sc, self.sc.aggregator_of(self.arm), fb, t)
        if t % self.sc.jss.update_weeks == 0:
            in_jss = [f for f in fb if f.counts(t, "jss")]
            self.jss = job_success(self.sc, in_jss, t)
            self.judged_jss = self.jss
            if math.isnan(self.jss):
                self.judged_jss = job_success(self.sc, in_jss, t, implied=True)
        # Top Rated counts weeks with a JSS of 90 or more, or with Rising Talent (no JSS)
        self.at_90.append(math.isnan(self.jss) or self.jss >= 90)
        badge = self.badge(t)
        band = reputation.jss_band(self.judged_jss)
        log_price = math.log(self.sc.freelancer.hourly_rate / self.sc.market.market_rate)
        evidence = sum((f.stars - 1.0) / 4.0 for f in fb)
        v = utility(
            stars, len(fb), band, badge, log_price, self.sc, self.market_mean, evidence=evidence
        )
        return stars, self.jss, badge, float(v)

    def badge(self, t: int) -> int:
        if math.isnan(self.jss):
            return RISING_TALENT
        weeks = [self.at_90[max(w, 0)] for w in range(t - TOP_RATED_OF_WEEKS + 1, t + 1)]
        top = (
            sum(weeks) >= TOP_RATED_WEEKS
            and self.earned_52_weeks(t) >= TOP_RATED_EARNED
            and self.first_contract_weeks_ago(t) > TOP_RATED_FIRST_WEEKS
        )
        return TOP_RATED if top else NO_BADGE

    def earned_52_weeks(self, t: int) -> float:
        past = sum(h.value for h in self.sc.history if h.ended_weeks_ago + t < 52)
        since = max(t - TOP_RATED_EARNED_WEEKS, 0)
        return past + self.gross * sum(self.active_by_week[since:t])

    def first_contract_weeks_ago(self, t: int) -> float:
        if self.sc.history:
            return t + max(h.ended_weeks_ago for h in self.sc.history)
        if self.first_start is None:
            return -math.inf
        return t - self.first_start

    # 5
    def proposals(self, t: int, q: float) -> int:
        f = self.sc.freelancer
        free = [j for j, k in enumerate(self.slots) if k is None]
        if not free or f.proposals_per_week == 0:
            return 0
        wins = sum(u < q for u in self.draws.proposals[t])
        new = min(wins, len(free))
        for j in free[:new]:
            k = self.next_ordinal
            self.next_ordinal += 1
            self.slots[j] = k
            self.ends[k] = t + self.draws.contracts[k].duration
            if self.first_start is None:
                self.first_start = t
        return new

    def week(self, t: int, market: HiringMarket) -> dict[str, float | int]:
        """Steps 1 to 7 of week t; the week's record."""
        self.contracts_end(t)
        self.rule_events(t)
        self.feedback_arrives(t)
        stars, jss, badge, v = self.signals(t)
        q = float(market.win_prob(v))
        new = self.proposals(t, q)
        active = sum(k is not None for k in self.slots)
        self.jobs += new
        self.contract_weeks += active
        self.active_by_week.append(active)
        return {
            "stars": round_stars(stars),
            "jss": jss,
            "win_prob": q,
            "active": active,
            "jobs": self.jobs,
            "earnings": self.contract_weeks * self.net,
            "badge": badge,
        }


def week_zero_utility(sc: Scenario, arm: Arm, draws: PathDraws, market_mean: float) -> float:
    """Utility of `arm` at week 0 after week 0's events, before any proposal."""
    run = PathRun(sc, arm, draws, market_mean)
    run.contracts_end(0)
    run.rule_events(0)
    run.feedback_arrives(0)
    return run.signals(0)[3]


def simulate_path(
    sc: Scenario, arm: Arm, draws: PathDraws, market: HiringMarket
) -> dict[str, list]:
    """Every metric of one arm on one path, week by week."""
    run = PathRun(sc, arm, draws, market.market_mean)
    records = [run.week(t, market) for t in range(sc.run.weeks)]
    return {m: [r[m] for r in records] for m in METRICS}


def reference_market(sc: Scenario, first_path: PathDraws) -> HiringMarket:
    """The hiring market, with the intercept solved on the first arm's week 0 when asked."""
    market = build_market(sc)
    if sc.hiring.known_win_rate is not None:
        v0 = week_zero_utility(sc, sc.arms[0], first_path, market.market_mean)
        market = solve_intercept(market, v0, sc.hiring.known_win_rate)
    return market


def simulate_reference(sc: Scenario, paths: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """{arm name: {metric: array (weeks, paths)}}, one path and one arm at a time."""
    paths = sc.run.paths if paths is None else paths
    draws = all_draws(sc, paths)
    market = reference_market(sc, draws[0])
    out = {}
    for arm in sc.arms:
        cols = [simulate_path(sc, arm, d, market) for d in draws]
        out[arm.name] = {
            m: np.array([c[m] for c in cols], dtype=int if m in INT_METRICS else float).T
            for m in METRICS
        }
    return out
