"""The weekly model as a competent plain-Python programmer would write it: one path at a time,
lists and local variables, running sums for the stars and the JSS windows (no numpy in the loop).

It is the competent numba loop (`numba_model.simulate`) in plain Python: on the same random
numbers (``random`` = a numpy Generator's ``random``) it gives the same jobs and earnings.
"""

from __future__ import annotations

import math
import random as stdlib_random
from collections.abc import Callable

import numpy as np
from bench_inputs import ModelInputs, histogram_bands, model_inputs

import sim

RISING_TALENT, TOP_RATED, NO_BADGE = 1, 2, 0


def _best(score: list[float], ok: list[bool], best_of: list[int], trending: list[int]) -> float:
    best = -math.inf
    for w in best_of:
        if ok[w] and score[w] > best:
            best = score[w]
    if all(ok[w] for w in trending):
        best = max(best, sum(score[w] for w in trending) / len(trending))
    return math.floor(best + 0.5) if best > -math.inf else math.nan


def simulate(m: ModelInputs, paths: int, random: Callable[[], float]) -> tuple:
    """(jobs, contract-weeks) per arm and path, and weekly counts by code per arm (as the numba
    loop's: stars in hundredths + 1, JSS + 1, win probability in 1e-4, active, jobs,
    contract-weeks, badge)."""
    weeks, cap, slots, dmax, gross = m.weeks, m.capacity, m.slots, m.delay_max, m.gross
    n_arms = len(m.arms)
    edges = [float(e) for e in m.star_edges]
    log_keep = math.log1p(-m.p_end) if m.p_end < 1.0 else 0.0
    rate, share, shift = m.feedback_rate, m.harsh_share, m.harsh_shift
    success_at, fail_below = m.success_at, m.fail_below
    windows = [int(w) for w in m.jss_windows]
    nw = len(windows)
    best_of, trending = [int(i) for i in m.best_of], [int(i) for i in m.trending]
    min_c, min_cl, update = m.min_contracts, m.min_clients, m.update_weeks
    value_w, use_stars, use_jss = m.value_weighted, m.use_stars, m.use_jss
    b_stars, half, b_reviews, price, mm = (
        m.b_stars,
        m.stars_half,
        m.b_reviews,
        m.price_term,
        (m.market_mean),
    )
    b_jss, b_badge = [float(x) for x in m.b_jss], [float(x) for x in m.b_badge]
    q_grid = [float(x) for x in m.q_grid]
    start, scale, top_i = m.grid_start, m.grid_scale, len(q_grid) - 1
    hist_earned = [float(x) for x in m.hist_earned]
    tenure0 = m.tenure0
    exclude = [int(x) for x in m.exclude_week]
    hist = [
        (
            float(x),
            float(v) if value_w else 1.0,
            int(e),
            1.5 if v > 1000 else 1.25 if v > 250 else 1.0,
            1.0 if x >= success_at else -1.0 if x < fail_below else 0.0,
            int(c),
            bool(f),
        )
        for x, v, e, c, f in zip(
            m.h_stars, m.h_value, m.h_end, m.h_client, m.h_flagged, strict=True
        )
    ]
    jobs_out = [[0] * paths for _ in range(n_arms)]
    cw_out = [[0] * paths for _ in range(n_arms)]
    bins = (502, 102, 10_001, cap + 1, cap * weeks + 1, cap * weeks + 1, 3)
    counts = [[[[0] * b for _ in range(weeks)] for _ in range(n_arms)] for b in bins]
    c_stars, c_jss, c_q, c_active, c_jobs, c_cw, c_badge = counts
    for path in range(paths):
        table: list[tuple[int, int, bool, int]] = []  # stars, duration, left, delay by ordinal
        state = []
        for _ in range(n_arms):
            s = {
                "on": [True] * len(hist),
                "sum_w": 0.0, "sum_wx": 0.0, "sum_e": 0.0, "n": len(hist),
                "tot": [0.0] * nw, "net": [0.0] * nw, "cnt": [0] * nw, "cl": [0] * nw,
                "hcl": [dict() for _ in range(nw)], "by_end": {}, "changed": True,
                "slots": [-1] * cap, "ords": [0] * cap, "pending": [], "active": 0,
                "next": 0, "jobs": 0, "cw": 0, "first": -1, "jss": 0.0, "judged": 0.0,
                "at90": [False] * 16, "at90_n": 0, "earned": [0.0] * 52, "earned_sum": 0.0,
                "q": 0.0, "badge": RISING_TALENT,
            }  # fmt: skip
            for x, w, end, jw, out, c, _f in hist:
                s["sum_w"] += w
                s["sum_wx"] += w * x
                s["sum_e"] += (x - 1.0) * 0.25
                for k in range(nw):
                    if -end < windows[k]:
                        s["tot"][k] += jw
                        s["net"][k] += jw * out
                        s["cnt"][k] += 1
                        held = s["hcl"][k]
                        held[c] = held.get(c, 0) + 1
                        s["cl"][k] += held[c] == 1
            state.append(s)
        for t in range(weeks):
            sending = False
            for a, s in enumerate(state):
                tot, net, cnt, cl, hcl, by_end = (
                    s["tot"],
                    s["net"],
                    s["cnt"],
                    s["cl"],
                    s["hcl"],
                    s["by_end"],
                )
                ends, ords = s["slots"], s["ords"]
                for j in range(cap):  # 1. contracts end; feedback scheduled
                    if ends[j] == t:
                        ends[j] = -1
                        s["active"] -= 1
                        k = ords[j]
                        if table[k][2]:
                            s["pending"].append((t + table[k][3], k))
                if t > 0:  # JSS windows age
                    for k in range(nw):
                        gone = by_end.get(t - windows[k])
                        if gone is not None:
                            tot[k] -= gone[0]
                            net[k] -= gone[1]
                            cnt[k] -= gone[2]
                            cl[k] -= gone[2]
                            s["changed"] = True
                        for i, (_x, _w, end, jw, out, c, _f) in enumerate(hist):
                            if s["on"][i] and end + windows[k] == t:
                                tot[k] -= jw
                                net[k] -= jw * out
                                cnt[k] -= 1
                                hcl[k][c] -= 1
                                cl[k] -= hcl[k][c] == 0
                                s["changed"] = True
                if t == exclude[a]:  # 2. exclude_flagged removes the flagged history
                    for i, (x, w, end, jw, out, c, flagged) in enumerate(hist):
                        if flagged and s["on"][i]:
                            s["on"][i] = False
                            s["sum_w"] -= w
                            s["sum_wx"] -= w * x
                            s["sum_e"] -= (x - 1.0) * 0.25
                            s["n"] -= 1
                            for k in range(nw):
                                if t - end < windows[k]:
                                    tot[k] -= jw
                                    net[k] -= jw * out
                                    cnt[k] -= 1
                                    hcl[k][c] -= 1
                                    cl[k] -= hcl[k][c] == 0
                            s["changed"] = True
                pending = s["pending"]
                if pending:  # 3. feedback arrives
                    due = [k for week, k in pending if week == t]
                    if due:
                        s["pending"] = [p for p in pending if p[0] != t]
                    for k in due:
                        stars, dur, _left, delay = table[k]
                        value = gross * dur
                        w = value if value_w else 1.0
                        s["sum_w"] += w
                        s["sum_wx"] += w * stars
                        s["sum_e"] += (stars - 1) * 0.25
                        s["n"] += 1
                        jw = 1.5 if value > 1000 else 1.25 if value > 250 else 1.0
                        out = 1.0 if stars >= success_at else -1.0 if stars < fail_below else 0.0
                        bucket = by_end.setdefault(t - delay, [0.0, 0.0, 0])
                        bucket[0] += jw
                        bucket[1] += jw * out
                        bucket[2] += 1
                        for kw in range(nw):
                            if delay < windows[kw]:
                                tot[kw] += jw
                                net[kw] += jw * out
                                cnt[kw] += 1
                                cl[kw] += 1
                        s["changed"] = True
                if t % update == 0 and s["changed"]:  # 4. signals
                    score = [
                        min(max(100.0 * net[k] / tot[k], 0.0), 100.0) if tot[k] > 0 else 0.0
                        for k in range(nw)
                    ]
                    ok = [cnt[k] >= min_c and cl[k] >= min_cl and tot[k] > 0 for k in range(nw)]
                    shown = _best(score, ok, best_of, trending)
                    judged = shown
                    if math.isnan(shown):
                        judged = _best(score, [c > 0 for c in cnt], best_of, trending)
                    s["jss"], s["judged"], s["changed"] = shown, judged, False
                jss = s["jss"]
                has = jss == jss
                good = not has or jss >= 90
                if t == 0:
                    s["at90"] = [good] * 16
                    s["at90_n"] = 16 * good
                else:
                    s["at90_n"] += good - s["at90"][t % 16]
                    s["at90"][t % 16] = good
                badge = RISING_TALENT
                if has:
                    if tenure0 >= 0:
                        tenure_ok = t + tenure0 > 13
                    else:
                        tenure_ok = s["first"] >= 0 and t - s["first"] > 13
                    top = s["at90_n"] >= 13 and s["earned_sum"] + hist_earned[t] >= 1000.0
                    badge = TOP_RATED if top and tenure_ok else NO_BADGE
                s["badge"] = badge
                n = s["n"]
                v = b_reviews * math.log1p(s["sum_e"]) + price
                if use_stars and n > 0:
                    trust = n / (n + half) if half > 0 else 1.0
                    v += b_stars * trust * (s["sum_wx"] / s["sum_w"] - mm)
                if use_jss:
                    j = s["judged"]
                    band = 4 if j != j else 0 if j >= 90 else 1 if j >= 80 else 2 if j >= 75 else 3
                    v += b_jss[band] + b_badge[badge]
                x = min(max((v - start) * scale, 0.0), float(top_i))
                i = min(int(x), top_i - 1)
                s["q"] = q_grid[i] + (x - i) * (q_grid[i + 1] - q_grid[i])
                sending = sending or s["active"] < cap
            u = [random() for _ in range(slots)] if sending else []  # 5. proposals
            for a, s in enumerate(state):
                new = 0
                if s["active"] < cap:
                    q = s["q"]
                    new = min(sum(x < q for x in u), cap - s["active"])
                ends, ords = s["slots"], s["ords"]
                filled = 0
                for j in range(cap):
                    if filled == new:
                        break
                    if ends[j] < 0:
                        k = s["next"]
                        while len(table) <= k:  # contract ordinal k's attributes, drawn once
                            r = random()
                            stars = 1 + sum(r >= e for e in edges)
                            d = 1
                            if m.p_end < 1.0:
                                d = 1 + math.floor(math.log1p(-random()) / log_keep)
                            left = random() < rate
                            delay = min(int(random() * (dmax + 1)), dmax)
                            if random() < share:
                                stars = max(stars - shift, 1)
                            table.append((stars, min(d, weeks + 1), left, delay))
                        ends[j] = t + table[k][1]
                        ords[j] = k
                        s["next"] += 1
                        filled += 1
                if new > 0 and s["first"] < 0:
                    s["first"] = t
                s["active"] += new  # 6. work and money
                s["jobs"] += new
                s["cw"] += s["active"]
                g = s["active"] * gross
                s["earned_sum"] += g - s["earned"][t % 52]
                s["earned"][t % 52] = g
                n = s["n"]  # 7. record the week
                code = math.floor(s["sum_wx"] / s["sum_w"] * 100.0 + 0.5) + 1 if n > 0 else 0
                c_stars[a][t][code] += 1
                jss = s["jss"]
                c_jss[a][t][0 if jss != jss else int(jss) + 1] += 1
                c_q[a][t][math.floor(s["q"] * 1e4 + 0.5)] += 1
                c_active[a][t][s["active"]] += 1
                c_jobs[a][t][s["jobs"]] += 1
                c_cw[a][t][s["cw"]] += 1
                c_badge[a][t][s["badge"]] += 1
        for a, s in enumerate(state):
            jobs_out[a][path] = s["jobs"]
            cw_out[a][path] = s["cw"]
    return jobs_out, cw_out, counts


def run(
    sc: sim.Scenario, paths: int, seed: int = 3, random: Callable[[], float] | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """As `numba_model.run`: per-path jobs and earnings at the horizon and weekly bands; random
    numbers from `random` (default: the standard library's Mersenne Twister seeded with `seed`)."""
    m = model_inputs(sc)
    random = stdlib_random.Random(seed).random if random is None else random
    jobs, cw, counts = simulate(m, paths, random)
    stars, jss, q, active, jobs_n, cw_n, badge = (np.array(c, dtype=np.int64) for c in counts)
    out = {}
    for i, a in enumerate(m.arms):
        bands = {
            "stars": histogram_bands(stars[i, :, 1:], 0.01),
            "jss": histogram_bands(jss[i, :, 1:], 1.0),
            "win_prob": histogram_bands(q[i], 1e-4),
            "active": histogram_bands(active[i], 1.0),
            "jobs": histogram_bands(jobs_n[i], 1.0),
            "earnings": histogram_bands(cw_n[i], m.net),
            "badge": histogram_bands(badge[i], 1.0),
        }
        cw_i = np.array(cw[i], dtype=np.int64)
        out[a] = {
            "jobs": np.array(jobs[i], dtype=np.int64),
            "earnings": cw_i * m.net,
            "bands": bands,
        }
    return out
