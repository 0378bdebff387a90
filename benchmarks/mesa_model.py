"""The same weekly model in Mesa 3: one freelancer agent per path, one model step per week."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mesa
import numpy as np
from bench_inputs import (
    QUANTILES,
    WEEKLY,
    ModelInputs,
    duration_weeks,
    jss_weight,
    model_inputs,
    weekly_bands,
)

import sim
from sim.reputation import NO_BADGE, RISING_TALENT, TOP_RATED


@dataclass(slots=True)
class Contract:
    """A won contract's attributes, drawn once per ordinal and shared by the arms."""

    stars: int  # what she earns, after a harsh client's shift
    duration: int
    left: bool
    delay: int
    harsh: bool  # the client's type


@dataclass(slots=True)
class Feedback:
    """One counted feedback: what the stars and the Job Success Score need."""

    stars: float
    weight: float  # in the stars' mean
    end: int
    jss_weight: float
    outcome: float  # +1 success, -1 failure, 0 neutral
    client: int  # history client id; -1: a future contract's own client
    flagged: bool = False


@dataclass(slots=True)
class ArmState:
    """One arm's view of the freelancer: counted feedback, contracts, badge record, money."""

    exclude_week: int
    counted: list[Feedback]
    sum_w: float = 0.0
    sum_wx: float = 0.0
    sum_e: float = 0.0  # five-star-equivalent reviews: sum of (stars - 1) / 4
    slots: list[int | None] = field(default_factory=list)  # contract ordinal per slot
    ends: list[int] = field(default_factory=list)  # end week per slot
    pending: list[tuple[int, int]] = field(default_factory=list)  # (arrival week, ordinal)
    next_ordinal: int = 0
    first_start: int = -1
    jss: float = math.nan  # shown
    judged_jss: float = math.nan  # what clients judge: the shown JSS, else the implied one
    at90: list[bool] = field(default_factory=list)
    earned: list[float] = field(default_factory=list)  # gross by week, a ring of 52
    earned_sum: float = 0.0
    jobs: int = 0
    contract_weeks: int = 0
    q: float = 0.0
    stars: float = math.nan  # this week's, for the data collector
    badge: int = RISING_TALENT

    @property
    def active(self) -> int:
        return sum(k is not None for k in self.slots)


class Freelancer(mesa.Agent):
    """One path: the freelancer's futures under every arm, on the same proposals and contracts."""

    def __init__(self, model: ReputationModel):
        super().__init__(model)
        p = model.p
        self.contracts: list[Contract] = []
        self.arms = [self._start(p, int(w)) for w in p.exclude_week]

    def _start(self, p: ModelInputs, exclude_week: int) -> ArmState:
        counted = [
            Feedback(
                stars=float(x),
                weight=float(v) if p.value_weighted else 1.0,
                end=int(e),
                jss_weight=jss_weight(v),
                outcome=self.model.outcome(x),
                client=int(c),
                flagged=bool(f),
            )
            for x, v, e, c, f in zip(
                p.h_stars, p.h_value, p.h_end, p.h_client, p.h_flagged, strict=True
            )
        ]
        return ArmState(
            exclude_week=exclude_week,
            counted=counted,
            sum_w=sum(f.weight for f in counted),
            sum_wx=sum(f.weight * f.stars for f in counted),
            sum_e=sum((f.stars - 1.0) / 4.0 for f in counted),
            slots=[None] * p.capacity,
            ends=[-1] * p.capacity,
            earned=[0.0] * 52,
        )

    def contract(self, k: int) -> Contract:
        """Contract ordinal k on this path, drawn when some arm first wins it."""
        m, rnd = self.model, self.model.random.random
        while len(self.contracts) <= k:
            u = rnd()
            stars = 1 + sum(u >= e for e in m.star_edges)
            c = Contract(
                stars=stars,
                duration=min(duration_weeks(rnd(), m.p.p_end), m.p.weeks + 1),
                left=rnd() < m.p.feedback_rate,
                delay=min(int(rnd() * (m.p.delay_max + 1)), m.p.delay_max),
                harsh=rnd() < m.p.harsh_share,
            )
            if c.harsh:  # a harsh client takes harsh_shift stars off, down to 1
                c.stars = max(stars - m.p.harsh_shift, 1)
            self.contracts.append(c)
        return self.contracts[k]

    def step(self) -> None:
        t, m = self.model.week, self.model
        for arm in self.arms:
            self.start_week(arm, t)
            arm.q = m.win_prob(self.utility(arm, t))
        cap = m.p.capacity
        u = []
        if any(arm.active < cap for arm in self.arms):
            u = [m.random.random() for _ in range(m.p.slots)]
        for arm in self.arms:
            self.work(arm, t, u)

    def start_week(self, arm: ArmState, t: int) -> None:
        """Steps 1 to 3: contracts end, the rule's removals, feedback arrives."""
        m = self.model
        for j, k in enumerate(arm.slots):
            if k is not None and arm.ends[j] == t:
                arm.slots[j] = None
                c = self.contracts[k]
                if c.left:
                    arm.pending.append((t + c.delay, k))
        if t == arm.exclude_week:
            for f in arm.counted:
                if f.flagged:
                    arm.sum_w -= f.weight
                    arm.sum_wx -= f.weight * f.stars
                    arm.sum_e -= (f.stars - 1.0) / 4.0
            arm.counted = [f for f in arm.counted if not f.flagged]
        due = [k for week, k in arm.pending if week == t]
        if due:
            arm.pending = [(week, k) for week, k in arm.pending if week != t]
        for k in due:
            c = self.contracts[k]
            value = m.p.gross * c.duration
            w = value if m.p.value_weighted else 1.0
            arm.counted.append(
                Feedback(c.stars, w, t - c.delay, jss_weight(value), m.outcome(c.stars), -1)
            )
            arm.sum_w += w
            arm.sum_wx += w * c.stars
            arm.sum_e += (c.stars - 1.0) / 4.0

    def utility(self, arm: ArmState, t: int) -> float:
        """Step 4: stars, JSS (every update_weeks), badge, and the hiring utility V."""
        m, p = self.model, self.model.p
        if t % p.update_weeks == 0:
            arm.jss, arm.judged_jss = m.job_success(arm.counted, t)
        badge = self.badge(arm, t)
        n = len(arm.counted)
        arm.stars = arm.sum_wx / arm.sum_w if n else math.nan
        arm.badge = badge
        v = p.b_reviews * math.log1p(arm.sum_e) + p.price_term
        if p.use_stars and n:
            trust = n / (n + p.stars_half) if p.stars_half > 0 else 1.0
            v += p.b_stars * trust * (arm.sum_wx / arm.sum_w - p.market_mean)
        if p.use_jss:
            v += m.b_jss[m.band(arm.judged_jss)] + m.b_badge[badge]
        return v

    def badge(self, arm: ArmState, t: int) -> int:
        has = not math.isnan(arm.jss)
        good = not has or arm.jss >= 90  # JSS >= 90 or Rising Talent (no JSS)
        if t == 0:
            arm.at90 = [good] * 16  # weeks before week 0 take week 0's status
        else:
            arm.at90[t % 16] = good
        if not has:
            return RISING_TALENT
        p = self.model.p
        if p.tenure0 >= 0:
            tenure = t + p.tenure0 > 13
        else:
            tenure = arm.first_start >= 0 and t - arm.first_start > 13
        earned = arm.earned_sum + self.model.hist_earned[t]
        top = sum(arm.at90) >= 13 and earned >= 1000.0 and tenure
        return TOP_RATED if top else NO_BADGE

    def work(self, arm: ArmState, t: int, u: list[float]) -> None:
        """Steps 5 and 6: proposals, new contracts, contract-weeks and earnings."""
        p = self.model.p
        free = [j for j, k in enumerate(arm.slots) if k is None]
        new = min(sum(x < arm.q for x in u), len(free)) if free else 0
        for j in free[:new]:
            k = arm.next_ordinal
            arm.next_ordinal += 1
            arm.slots[j] = k
            arm.ends[j] = t + self.contract(k).duration
        if new and arm.first_start < 0:
            arm.first_start = t
        active = p.capacity - len(free) + new
        arm.jobs += new
        arm.contract_weeks += active
        gross = active * p.gross
        arm.earned_sum += gross - arm.earned[t % 52]
        arm.earned[t % 52] = gross


class ReputationModel(mesa.Model):
    """`paths` freelancer agents; each step is one week (docs/simulation.md, supported rules)."""

    def __init__(self, p: ModelInputs, paths: int, seed: int = 1):
        super().__init__(rng=seed)
        self.p = p
        self.week = 0
        self.star_edges = [float(e) for e in p.star_edges]
        self.q_grid = [float(q) for q in p.q_grid]
        self.b_jss = [float(b) for b in p.b_jss]
        self.b_badge = [float(b) for b in p.b_badge]
        self.hist_earned = [float(x) for x in p.hist_earned]
        self.windows = [int(w) for w in p.jss_windows]
        self.best_of = [int(i) for i in p.best_of]
        self.trending = [int(i) for i in p.trending]
        Freelancer.create_agents(self, paths)
        # every week's figures per agent and arm, as sim.run reports them (Mesa's own way)
        reporters = {}
        for i, name in enumerate(p.arms):
            reporters |= {
                f"{name}:stars": lambda a, i=i: a.arms[i].stars,
                f"{name}:jss": lambda a, i=i: a.arms[i].jss,
                f"{name}:win_prob": lambda a, i=i: a.arms[i].q,
                f"{name}:active": lambda a, i=i: a.arms[i].active,
                f"{name}:jobs": lambda a, i=i: a.arms[i].jobs,
                f"{name}:earnings": lambda a, i=i: a.arms[i].contract_weeks * p.net,
                f"{name}:badge": lambda a, i=i: a.arms[i].badge,
            }
        self.datacollector = mesa.DataCollector(agent_reporters=reporters)

    def step(self) -> None:
        self.agents.do("step")
        self.datacollector.collect(self)
        self.week += 1

    def bands(self) -> dict[str, dict[str, np.ndarray]]:
        """{arm: {metric: (weeks, 6) weekly 5-95 percentiles and mean}} from the collected data."""
        df = self.datacollector.get_agent_vars_dataframe().astype(float)
        by_week = df.groupby(level="Step")
        q = by_week.quantile([p / 100 for p in QUANTILES], interpolation="lower")
        mean = by_week.mean()
        out = {}
        for name in self.p.arms:
            out[name] = {}
            for metric in WEEKLY:
                col = f"{name}:{metric}"
                cols = [q[col].xs(p / 100, level=1).to_numpy() for p in QUANTILES]
                out[name][metric] = np.column_stack([*cols, mean[col].to_numpy()])
        return out

    def outcome(self, stars: float) -> float:
        p = self.p
        return 1.0 if stars >= p.success_at else -1.0 if stars < p.fail_below else 0.0

    def win_prob(self, v: float) -> float:
        """q(V) by linear interpolation on the market's grid, as sim.market does."""
        q, p = self.q_grid, self.p
        x = min(max((v - p.grid_start) * p.grid_scale, 0.0), len(q) - 1.0)
        i = min(int(x), len(q) - 2)
        return q[i] + (x - i) * (q[i + 1] - q[i])

    @staticmethod
    def band(jss: float) -> int:
        if math.isnan(jss):
            return 4
        return 0 if jss >= 90 else 1 if jss >= 80 else 2 if jss >= 75 else 3

    def job_success(self, counted: list[Feedback], t: int) -> tuple[float, float]:
        """(shown, judged) Job Success Score over the counted feedback: the shown one (NaN: no
        window qualifies) and the one clients judge, the shown one else the same score over any
        window holding counted feedback (NaN: none does)."""
        p, lengths = self.p, self.windows
        nw = len(lengths)
        total, net, contracts, own = [0.0] * nw, [0.0] * nw, [0] * nw, [0] * nw
        history: list[set[int]] = [set() for _ in lengths]  # history clients by id
        for f in counted:
            age = t - f.end
            if age < 0:
                continue
            for w in range(nw):
                if age < lengths[w]:
                    total[w] += f.jss_weight
                    net[w] += f.jss_weight * f.outcome
                    contracts[w] += 1
                    if f.client < 0:
                        own[w] += 1  # a future contract: a client of its own
                    else:
                        history[w].add(f.client)
        scores: list[float | None] = []  # None: the window does not qualify
        implied: list[float | None] = []  # None: no counted feedback in the window
        for w in range(nw):
            score = min(max(100.0 * net[w] / total[w], 0.0), 100.0) if contracts[w] else None
            implied.append(score)
            clients = own[w] + len(history[w])
            ok = contracts[w] >= p.min_contracts and clients >= p.min_clients
            scores.append(score if ok else None)
        shown = self.best_window(scores)
        return shown, (self.best_window(implied) if math.isnan(shown) else shown)

    def best_window(self, scores: list[float | None]) -> float:
        """The highest of the qualifying (not None) windows' and trending scores, whole percent;
        NaN when none qualifies."""
        best = [scores[i] for i in self.best_of if scores[i] is not None]
        trend = [scores[i] for i in self.trending]
        if all(s is not None for s in trend):
            best.append(sum(trend) / len(trend))
        return math.floor(max(best) + 0.5) if best else math.nan


def run(
    sc: sim.Scenario, paths: int, seed: int = 1, model_class: type | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """{arm: {"jobs", "earnings": per-path values at the horizon, "bands": {metric: (weeks, 6)
    weekly percentiles and mean}}} for `paths` paths, by the expert model (`ExpertModel`) or
    `model_class`."""
    p = model_inputs(sc)
    model = (ExpertModel if model_class is None else model_class)(p, paths, seed)
    for _ in range(p.weeks):
        model.step()
    agents = list(model.agents)
    bands = model.bands()
    out = {}
    for i, name in enumerate(p.arms):
        jobs = np.array([a.arms[i].jobs for a in agents])
        cw = np.array([a.arms[i].contract_weeks for a in agents])
        out[name] = {"jobs": jobs, "earnings": cw * p.net, "bands": bands[name]}
    return out


# -- the expert version: what the engine does to be fast, in Mesa's terms -----------------------


@dataclass(slots=True)
class Windows:
    """One arm's Job Success Score windows as running sums: what ended w weeks ago leaves the
    w-week window; history items leave one by one, future feedback by end-week bucket."""

    total: list[float]
    net: list[float]
    contracts: list[int]
    own: list[int]  # future contracts in the window: a client each
    history: list[dict[int, int]]  # history client id -> its items in the window
    items: list[Feedback]  # the history feedback still counted
    by_end: dict[int, list[float]] = field(default_factory=dict)  # end week -> [total, net, n]
    changed: bool = True


class ExpertFreelancer(Freelancer):
    """`Freelancer` with the JSS kept as running sums per window (updated as feedback arrives,
    is removed or ages out) and recomputed only in update weeks when a sum changed."""

    def __init__(self, model: ReputationModel):
        super().__init__(model)
        self.windows = [self._windows(arm) for arm in self.arms]

    def _windows(self, arm: ArmState) -> Windows:
        lengths = self.model.windows
        nw = len(lengths)
        win = Windows(
            [0.0] * nw, [0.0] * nw, [0] * nw, [0] * nw, [{} for _ in lengths], list(arm.counted)
        )
        for f in win.items:
            self._move(win, f, 0, 1)
        return win

    def _move(self, win: Windows, f: Feedback, t: int, sign: int) -> None:
        """History item f joins (sign 1) or leaves (-1) every window holding it at week t."""
        for w, length in enumerate(self.model.windows):
            if 0 <= t - f.end < length:
                self._history_step(win, w, f, sign)

    @staticmethod
    def _history_step(win: Windows, w: int, f: Feedback, sign: int) -> None:
        win.total[w] += sign * f.jss_weight
        win.net[w] += sign * f.jss_weight * f.outcome
        win.contracts[w] += sign
        held = win.history[w]
        held[f.client] = held.get(f.client, 0) + sign
        if not held[f.client]:
            del held[f.client]
        win.changed = True

    def step(self) -> None:
        t, m = self.model.week, self.model
        for arm, win in zip(self.arms, self.windows, strict=True):
            self.start_week_expert(arm, win, t)
            arm.q = m.win_prob(self.utility_expert(arm, win, t))
        cap = m.p.capacity
        u = []
        if any(arm.active < cap for arm in self.arms):
            u = [m.random.random() for _ in range(m.p.slots)]
        for arm in self.arms:
            self.work(arm, t, u)

    def start_week_expert(self, arm: ArmState, win: Windows, t: int) -> None:
        """Steps 1 to 3 as `start_week`, keeping the windows' sums."""
        m, p = self.model, self.model.p
        for w, length in enumerate(m.windows):  # ageing: what ended `length` weeks ago leaves
            gone = win.by_end.get(t - length)
            if gone is not None:
                win.total[w] -= gone[0]
                win.net[w] -= gone[1]
                win.contracts[w] -= gone[2]
                win.own[w] -= gone[2]
                win.changed = True
            for f in win.items:
                if f.end + length == t and t > 0:
                    self._history_step(win, w, f, -1)
        for j, k in enumerate(arm.slots):
            if k is not None and arm.ends[j] == t:
                arm.slots[j] = None
                c = self.contracts[k]
                if c.left:
                    arm.pending.append((t + c.delay, k))
        if t == arm.exclude_week:
            for f in arm.counted:
                if f.flagged:
                    arm.sum_w -= f.weight
                    arm.sum_wx -= f.weight * f.stars
                    arm.sum_e -= (f.stars - 1.0) / 4.0
                    self._move(win, f, t, -1)
            arm.counted = [f for f in arm.counted if not f.flagged]
            win.items = [f for f in win.items if not f.flagged]
        due = [k for week, k in arm.pending if week == t]
        if due:
            arm.pending = [(week, k) for week, k in arm.pending if week != t]
        for k in due:
            c = self.contracts[k]
            value = p.gross * c.duration
            w = value if p.value_weighted else 1.0
            arm.sum_w += w
            arm.sum_wx += w * c.stars
            arm.sum_e += (c.stars - 1.0) / 4.0
            arm.counted.append(Feedback(c.stars, w, t - c.delay, 0.0, 0.0, -1))  # for the count
            jw, out, end = jss_weight(value), m.outcome(c.stars), t - c.delay
            bucket = win.by_end.setdefault(end, [0.0, 0.0, 0])
            bucket[0] += jw
            bucket[1] += jw * out
            bucket[2] += 1
            for w, length in enumerate(m.windows):
                if c.delay < length:
                    win.total[w] += jw
                    win.net[w] += jw * out
                    win.contracts[w] += 1
                    win.own[w] += 1
            win.changed = True

    def utility_expert(self, arm: ArmState, win: Windows, t: int) -> float:
        """Step 4 as `utility`, the JSS from the windows' sums."""
        m, p = self.model, self.model.p
        if t % p.update_weeks == 0 and win.changed:
            arm.jss, arm.judged_jss = m.job_success_from(win)
            win.changed = False
        badge = self.badge(arm, t)
        n = len(arm.counted)
        arm.stars = arm.sum_wx / arm.sum_w if n else math.nan
        arm.badge = badge
        v = p.b_reviews * math.log1p(arm.sum_e) + p.price_term
        if p.use_stars and n:
            trust = n / (n + p.stars_half) if p.stars_half > 0 else 1.0
            v += p.b_stars * trust * (arm.sum_wx / arm.sum_w - p.market_mean)
        if p.use_jss:
            v += m.b_jss[m.band(arm.judged_jss)] + m.b_badge[badge]
        return v


class ExpertModel(ReputationModel):
    """`ReputationModel` with `ExpertFreelancer` agents and one model reporter that keeps each
    week's bands (6 numbers per arm and figure) instead of a row per agent and week."""

    def __init__(self, p: ModelInputs, paths: int, seed: int = 1):
        mesa.Model.__init__(self, rng=seed)
        self.p = p
        self.week = 0
        self.star_edges = [float(e) for e in p.star_edges]
        self.q_grid = [float(q) for q in p.q_grid]
        self.b_jss = [float(b) for b in p.b_jss]
        self.b_badge = [float(b) for b in p.b_badge]
        self.hist_earned = [float(x) for x in p.hist_earned]
        self.windows = [int(w) for w in p.jss_windows]
        self.best_of = [int(i) for i in p.best_of]
        self.trending = [int(i) for i in p.trending]
        ExpertFreelancer.create_agents(self, paths)
        self.datacollector = mesa.DataCollector(model_reporters={"bands": ExpertModel.week_bands})

    def week_bands(self) -> dict[str, dict[str, np.ndarray]]:
        """This week's 5-95 percentiles and mean of every figure per arm, over the agents."""
        agents = list(self.agents)
        net = self.p.net
        out = {}
        for i, name in enumerate(self.p.arms):
            arms = [a.arms[i] for a in agents]
            values = {
                "stars": [s.stars for s in arms],
                "jss": [s.jss for s in arms],
                "win_prob": [s.q for s in arms],
                "active": [s.active for s in arms],
                "jobs": [s.jobs for s in arms],
                "earnings": [s.contract_weeks * net for s in arms],
                "badge": [s.badge for s in arms],
            }
            out[name] = {
                k: weekly_bands(np.array(v, dtype=float)[None, :])[0] for k, v in values.items()
            }
        return out

    def job_success_from(self, win: Windows) -> tuple[float, float]:
        """(shown, judged) JSS from the windows' sums, as `job_success` computes them."""
        p = self.p
        scores: list[float | None] = []
        implied: list[float | None] = []
        for w in range(len(self.windows)):
            n = win.contracts[w]
            score = min(max(100.0 * win.net[w] / win.total[w], 0.0), 100.0) if n else None
            implied.append(score)
            clients = win.own[w] + len(win.history[w])
            ok = n >= p.min_contracts and clients >= p.min_clients
            scores.append(score if ok else None)
        shown = self.best_window(scores)
        return shown, (self.best_window(implied) if math.isnan(shown) else shown)

    def bands(self) -> dict[str, dict[str, np.ndarray]]:
        weeks = self.datacollector.model_vars["bands"]
        return {
            name: {m: np.stack([w[name][m] for w in weeks]) for m in WEEKLY} for name in self.p.arms
        }


def run_idiomatic(sc: sim.Scenario, paths: int, seed: int = 1) -> dict[str, dict[str, np.ndarray]]:
    """`run` with the first, idiomatic model: the JSS rescans all feedback; 14 agent reporters."""
    return run(sc, paths, seed, model_class=ReputationModel)
