"""The weekly loop of docs/simulation.md compiled with numba: one path at a time, on one thread
or more (blocks of paths in threads that release the GIL)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from bench_inputs import ModelInputs, histogram_bands, model_inputs
from numba import njit

import sim

RISING_TALENT, TOP_RATED, NO_BADGE = 1, 2, 0
# columns of a path's contract table, by ordinal
C_STARS, C_DURATION, C_LEFT, C_DELAY = range(4)
HIST_BLOCK = 64  # paths whose weekly codes are buffered before they are counted


@njit(cache=True)
def _win_prob(v: float, start: float, scale: float, q: np.ndarray) -> float:
    """q(V) by linear interpolation on the market's uniform grid (as sim.market does)."""
    x = min(max((v - start) * scale, 0.0), q.size - 1.0)
    i = min(int(x), q.size - 2)
    return q[i] + (x - i) * (q[i + 1] - q[i])


@njit(cache=True)
def _draw_contract(rng, table: np.ndarray, k: int, edges, p_end, rate, delay_max, weeks, harsh):
    """Contract ordinal k's stars, duration, feedback left, delay and client type from five
    uniforms; a harsh client takes `shift` stars off, down to 1."""
    share, shift = harsh
    u = rng.random()
    stars = 1
    for e in edges:
        stars += u >= e
    d = 1
    if p_end < 1.0:
        d = 1 + math.floor(math.log1p(-rng.random()) / math.log1p(-p_end))
    table[k, C_DURATION] = min(d, weeks + 1)
    table[k, C_LEFT] = rng.random() < rate
    table[k, C_DELAY] = min(int(rng.random() * (delay_max + 1)), delay_max)
    if rng.random() < share:
        stars = max(stars - shift, 1)
    table[k, C_STARS] = stars


@njit(cache=True)
def _best_window(score, ok, best_of, trending) -> float:
    """The highest qualifying window or trending score, whole percent (NaN: none qualifies)."""
    best = -np.inf
    for w in best_of:
        if ok[w]:
            best = max(best, score[w])
    trend_ok, trend = True, 0.0
    for w in trending:
        trend_ok = trend_ok and ok[w]
        trend += score[w]
    if trend_ok:
        best = max(best, trend / trending.size)
    return math.floor(best + 0.5) if best > -np.inf else np.nan


@njit(cache=True)
def _job_success(t, n_fb, fb_on, fb_end, fb_jw, fb_out, fb_client, p, scratch):
    """(shown, judged) JSS over the counted feedback: the shown one (NaN when no window
    qualifies), and the one clients judge: the shown one, else the same score over any window
    holding counted feedback (NaN when none does)."""
    windows, best_of, trending, min_c, min_cl = p
    total, net, score, contracts, clients, ok, seen = scratch
    nw = windows.size
    total[:] = 0.0
    net[:] = 0.0
    contracts[:] = 0
    clients[:] = 0
    seen[:] = False
    for i in range(n_fb):
        if not fb_on[i]:
            continue
        age = t - fb_end[i]
        for w in range(nw):
            if 0 <= age < windows[w]:
                total[w] += fb_jw[i]
                net[w] += fb_jw[i] * fb_out[i]
                contracts[w] += 1
                c = fb_client[i]
                if c < 0:  # a future contract: its own client
                    clients[w] += 1
                elif not seen[w, c]:
                    seen[w, c] = True
                    clients[w] += 1
    for w in range(nw):
        score[w] = min(max(100.0 * net[w] / total[w], 0.0), 100.0) if total[w] > 0 else 0.0
        ok[w] = contracts[w] >= min_c and clients[w] >= min_cl and total[w] > 0
    shown = _best_window(score, ok, best_of, trending)
    if not math.isnan(shown):
        return shown, shown
    for w in range(nw):
        ok[w] = contracts[w] > 0
    return shown, _best_window(score, ok, best_of, trending)


@njit(cache=True)
def _band(jss: float) -> int:
    if math.isnan(jss):
        return 4
    return 0 if jss >= 90 else 1 if jss >= 80 else 2 if jss >= 75 else 3


@njit(cache=True)
def simulate_rescan(paths, rng, ints, reals, arrays, jss_params):
    """The first loop, kept to check the competent one (`simulate`) against, bit for bit: it
    rescans all counted feedback over every window for the JSS every update week.

    Final jobs and contract-weeks per arm and path, (arms, paths) each, and the weekly
    distribution of every figure sim.run reports, as counts by week and code (`bands`)."""
    weeks, cap, slots, delay_max, n_arms, tenure0, update, use_stars, use_jss, value_w = ints[0]
    h_clients, harsh_shift = ints[1]
    gross, p_end, rate, success_at, fail_below, b_stars, half, b_reviews, price, mm = reals[0]
    start, scale, harsh_share = reals[1]
    harsh = (harsh_share, harsh_shift)
    exclude_week, edges, h_stars, h_value, h_end, h_flagged, h_client, hist_earned = arrays[0]
    b_jss, b_badge, q_grid = arrays[1]
    n_hist = h_stars.size
    n_max = n_hist + cap * weeks  # counted feedback, at most
    jobs_out = np.zeros((n_arms, paths), np.int64)
    cw_out = np.zeros((n_arms, paths), np.int64)
    # weekly counts by code: stars in hundredths + 1 and JSS + 1 (0: none), win probability in
    # 1e-4, active, jobs, contract-weeks, badge
    h_stars_n = np.zeros((n_arms, weeks, 502), np.int64)
    h_jss_n = np.zeros((n_arms, weeks, 102), np.int64)
    h_q_n = np.zeros((n_arms, weeks, 10_001), np.int64)
    h_active_n = np.zeros((n_arms, weeks, cap + 1), np.int64)
    h_jobs_n = np.zeros((n_arms, weeks, cap * weeks + 1), np.int64)
    h_cw_n = np.zeros((n_arms, weeks, cap * weeks + 1), np.int64)
    h_badge_n = np.zeros((n_arms, weeks, 3), np.int64)
    table = np.zeros((cap * weeks, 4), np.int64)
    u = np.empty(slots)
    # per-arm state
    fb_on = np.zeros((n_arms, n_max), np.bool_)
    fb_end = np.zeros((n_arms, n_max), np.int64)
    fb_jw = np.zeros((n_arms, n_max))
    fb_out = np.zeros((n_arms, n_max))
    fb_client = np.zeros((n_arms, n_max), np.int64)
    n_fb = np.zeros(n_arms, np.int64)
    sum_w, sum_wx, n_rev = np.zeros(n_arms), np.zeros(n_arms), np.zeros(n_arms, np.int64)
    sum_e = np.zeros(n_arms)  # five-star-equivalent reviews: sum of (stars - 1) / 4
    slot_end = np.zeros((n_arms, cap), np.int64)
    slot_ord = np.zeros((n_arms, cap), np.int64)
    pend_at = np.zeros((n_arms, cap * (delay_max + 1)), np.int64)
    pend_k = np.zeros((n_arms, cap * (delay_max + 1)), np.int64)
    n_pend = np.zeros(n_arms, np.int64)
    active, next_ord = np.zeros(n_arms, np.int64), np.zeros(n_arms, np.int64)
    jobs, cw = np.zeros(n_arms, np.int64), np.zeros(n_arms, np.int64)
    first_start = np.zeros(n_arms, np.int64)
    jss = np.zeros(n_arms)
    judged = np.zeros(n_arms)  # the JSS clients judge (shown, else implied)
    at90 = np.zeros((n_arms, 16), np.bool_)
    at90_n = np.zeros(n_arms, np.int64)
    earned = np.zeros((n_arms, 52))
    earned_sum = np.zeros(n_arms)
    q = np.zeros(n_arms)
    badges = np.zeros(n_arms, np.int64)
    nw = jss_params[0].size
    scratch = (
        np.zeros(nw), np.zeros(nw), np.zeros(nw), np.zeros(nw, np.int64), np.zeros(nw, np.int64),
        np.zeros(nw, np.bool_), np.zeros((nw, max(h_clients, 1)), np.bool_),
    )  # fmt: skip
    for path in range(paths):
        drawn = 0
        for a in range(n_arms):  # history feedback counts at the start
            sum_w[a] = 0.0
            sum_wx[a] = 0.0
            sum_e[a] = 0.0
            for i in range(n_hist):
                w = h_value[i] if value_w else 1.0
                sum_w[a] += w
                sum_wx[a] += w * h_stars[i]
                sum_e[a] += (h_stars[i] - 1.0) * 0.25
                fb_on[a, i] = True
                fb_end[a, i] = h_end[i]
                fb_jw[a, i] = 1.5 if h_value[i] > 1000 else 1.25 if h_value[i] > 250 else 1.0
                x = h_stars[i]
                fb_out[a, i] = 1.0 if x >= success_at else -1.0 if x < fail_below else 0.0
                fb_client[a, i] = h_client[i]
            n_fb[a], n_rev[a], n_pend[a] = n_hist, n_hist, 0
            slot_end[a, :] = -1
            active[a], next_ord[a], jobs[a], cw[a] = 0, 0, 0, 0
            first_start[a] = -1
            earned[a, :] = 0.0
            earned_sum[a] = 0.0
        for t in range(weeks):
            sending = False
            for a in range(n_arms):
                # 1. contracts end; feedback scheduled
                for j in range(cap):
                    if slot_end[a, j] == t:
                        slot_end[a, j] = -1
                        active[a] -= 1
                        k = slot_ord[a, j]
                        if table[k, C_LEFT]:
                            pend_at[a, n_pend[a]] = t + table[k, C_DELAY]
                            pend_k[a, n_pend[a]] = k
                            n_pend[a] += 1
                # 2. rule events: exclude_flagged removes the flagged history feedback
                if t == exclude_week[a]:
                    for i in range(n_hist):
                        if h_flagged[i] and fb_on[a, i]:
                            fb_on[a, i] = False
                            w = h_value[i] if value_w else 1.0
                            sum_w[a] -= w
                            sum_wx[a] -= w * h_stars[i]
                            sum_e[a] -= (h_stars[i] - 1.0) * 0.25
                            n_rev[a] -= 1
                # 3. feedback arrives
                i = 0
                while i < n_pend[a]:
                    if pend_at[a, i] != t:
                        i += 1
                        continue
                    k = pend_k[a, i]
                    stars, dur = table[k, C_STARS], table[k, C_DURATION]
                    value = gross * dur
                    w = value if value_w else 1.0
                    sum_w[a] += w
                    sum_wx[a] += w * stars
                    sum_e[a] += (stars - 1) * 0.25
                    n_rev[a] += 1
                    f = n_fb[a]
                    fb_on[a, f] = True
                    fb_end[a, f] = t - table[k, C_DELAY]
                    fb_jw[a, f] = 1.5 if value > 1000 else 1.25 if value > 250 else 1.0
                    fb_out[a, f] = 1.0 if stars >= success_at else -1.0 if stars < fail_below else 0
                    fb_client[a, f] = -1
                    n_fb[a] += 1
                    n_pend[a] -= 1
                    pend_at[a, i] = pend_at[a, n_pend[a]]
                    pend_k[a, i] = pend_k[a, n_pend[a]]
                # 4. signals
                if t % update == 0:
                    jss[a], judged[a] = _job_success(
                        t, n_fb[a], fb_on[a], fb_end[a], fb_jw[a], fb_out[a], fb_client[a],
                        jss_params, scratch,
                    )  # fmt: skip
                has = not math.isnan(jss[a])
                good = not has or jss[a] >= 90  # JSS >= 90 or Rising Talent (no JSS)
                if t == 0:
                    at90[a, :] = good
                    at90_n[a] = 16 * good
                else:
                    at90_n[a] += int(good) - int(at90[a, t % 16])
                    at90[a, t % 16] = good
                badge = RISING_TALENT
                if has:
                    if tenure0 >= 0:
                        tenure_ok = t + tenure0 > 13
                    else:
                        tenure_ok = first_start[a] >= 0 and t - first_start[a] > 13
                    top = at90_n[a] >= 13 and earned_sum[a] + hist_earned[t] >= 1000.0
                    badge = TOP_RATED if top and tenure_ok else NO_BADGE
                badges[a] = badge
                n = n_rev[a]
                v = b_reviews * math.log1p(sum_e[a]) + price
                if use_stars and n > 0:
                    trust = n / (n + half) if half > 0 else 1.0
                    v += b_stars * trust * (sum_wx[a] / sum_w[a] - mm)
                if use_jss:
                    v += b_jss[_band(judged[a])] + b_badge[badge]
                q[a] = _win_prob(v, start, scale, q_grid)
                sending = sending or active[a] < cap
            # 5. proposals: one uniform per slot, shared by the arms
            if sending:
                for s in range(slots):
                    u[s] = rng.random()
            for a in range(n_arms):
                new = 0
                if active[a] < cap:
                    wins = 0
                    for s in range(slots):
                        wins += u[s] < q[a]
                    new = min(wins, cap - active[a])
                filled = 0
                for j in range(cap):
                    if filled == new:
                        break
                    if slot_end[a, j] < 0:
                        k = next_ord[a]
                        while drawn <= k:
                            _draw_contract(
                                rng, table, drawn, edges, p_end, rate, delay_max, weeks, harsh
                            )
                            drawn += 1
                        slot_end[a, j] = t + table[k, C_DURATION]
                        slot_ord[a, j] = k
                        next_ord[a] += 1
                        filled += 1
                if new > 0 and first_start[a] < 0:
                    first_start[a] = t
                # 6. work and money
                active[a] += new
                jobs[a] += new
                cw[a] += active[a]
                g = active[a] * gross
                earned_sum[a] += g - earned[a, t % 52]
                earned[a, t % 52] = g
                # 7. record the week
                n = n_rev[a]
                code = math.floor(sum_wx[a] / sum_w[a] * 100.0 + 0.5) + 1 if n > 0 else 0
                h_stars_n[a, t, code] += 1
                h_jss_n[a, t, 0 if math.isnan(jss[a]) else int(jss[a]) + 1] += 1
                h_q_n[a, t, math.floor(q[a] * 1e4 + 0.5)] += 1
                h_active_n[a, t, active[a]] += 1
                h_jobs_n[a, t, jobs[a]] += 1
                h_cw_n[a, t, cw[a]] += 1
                h_badge_n[a, t, badges[a]] += 1
        for a in range(n_arms):
            jobs_out[a, path] = jobs[a]
            cw_out[a, path] = cw[a]
    counts = (h_stars_n, h_jss_n, h_q_n, h_active_n, h_jobs_n, h_cw_n, h_badge_n)
    return jobs_out, cw_out, counts


@njit(cache=True)
def _window_scores(tot, net, cnt, clients, ok, score, min_c, min_cl, best_of, trending):
    """(shown, judged) JSS from the windows' running sums, as `_job_success` gives them."""
    nw = tot.size
    for w in range(nw):
        score[w] = min(max(100.0 * net[w] / tot[w], 0.0), 100.0) if tot[w] > 0 else 0.0
        ok[w] = cnt[w] >= min_c and clients[w] >= min_cl and tot[w] > 0
    shown = _best_window(score, ok, best_of, trending)
    if not math.isnan(shown):
        return shown, shown
    for w in range(nw):
        ok[w] = cnt[w] > 0
    return shown, _best_window(score, ok, best_of, trending)


@njit(cache=True, nogil=True)
def simulate(paths, rng, ints, reals, arrays, jss_params):
    """`simulate_rescan`'s model and random numbers with the engine's algorithm: per window, the
    running sums of the JSS (total weight, net outcome, contracts, distinct history clients),
    updated as feedback arrives, is removed or ages out (future feedback by end-week bucket,
    history item by item), and the scores recomputed only in update weeks when a sum changed.
    Releases the GIL: threads run blocks of paths, each with its own Generator and histograms."""
    weeks, cap, slots, delay_max, n_arms, tenure0, update, use_stars, use_jss, value_w = ints[0]
    h_clients, harsh_shift = ints[1]
    gross, p_end, rate, success_at, fail_below, b_stars, half, b_reviews, price, mm = reals[0]
    start, scale, harsh_share = reals[1]
    harsh = (harsh_share, harsh_shift)
    exclude_week, edges, h_stars, h_value, h_end, h_flagged, h_client, hist_earned = arrays[0]
    b_jss, b_badge, q_grid = arrays[1]
    windows, best_of, trending, min_c, min_cl = jss_params
    nw = windows.size
    n_hist = h_stars.size
    jobs_out = np.zeros((n_arms, paths), np.int64)
    cw_out = np.zeros((n_arms, paths), np.int64)
    h_stars_n = np.zeros((n_arms, weeks, 502), np.int64)
    h_jss_n = np.zeros((n_arms, weeks, 102), np.int64)
    h_q_n = np.zeros((n_arms, weeks, 10_001), np.int64)
    h_active_n = np.zeros((n_arms, weeks, cap + 1), np.int64)
    h_jobs_n = np.zeros((n_arms, weeks, cap * weeks + 1), np.int64)
    h_cw_n = np.zeros((n_arms, weeks, cap * weeks + 1), np.int64)
    h_badge_n = np.zeros((n_arms, weeks, 3), np.int64)
    table = np.zeros((cap * weeks, 4), np.int64)
    u = np.empty(slots)
    # history feedback: JSS weight and outcome (the same on every path)
    h_jw = np.empty(n_hist)
    h_out = np.empty(n_hist)
    for i in range(n_hist):
        v = h_value[i]
        h_jw[i] = 1.5 if v > 1000 else 1.25 if v > 250 else 1.0
        x = h_stars[i]
        h_out[i] = 1.0 if x >= success_at else -1.0 if x < fail_below else 0.0
    # per-arm state
    h_on = np.zeros((n_arms, n_hist), np.bool_)
    sum_w, sum_wx, n_rev = np.zeros(n_arms), np.zeros(n_arms), np.zeros(n_arms, np.int64)
    sum_e = np.zeros(n_arms)
    # the JSS windows' running sums, and future feedback by end week (what leaves together)
    w_tot, w_net = np.zeros((n_arms, nw)), np.zeros((n_arms, nw))
    w_cnt, w_cl = np.zeros((n_arms, nw), np.int64), np.zeros((n_arms, nw), np.int64)
    w_hcl = np.zeros((n_arms, nw, max(h_clients, 1)), np.int64)  # history items per client
    e_tot, e_net = np.zeros((n_arms, weeks)), np.zeros((n_arms, weeks))
    e_cnt = np.zeros((n_arms, weeks), np.int64)
    changed = np.zeros(n_arms, np.bool_)
    slot_end = np.zeros((n_arms, cap), np.int64)
    slot_ord = np.zeros((n_arms, cap), np.int64)
    pend_at = np.zeros((n_arms, cap * (delay_max + 1)), np.int64)
    pend_k = np.zeros((n_arms, cap * (delay_max + 1)), np.int64)
    n_pend = np.zeros(n_arms, np.int64)
    active, next_ord = np.zeros(n_arms, np.int64), np.zeros(n_arms, np.int64)
    jobs, cw = np.zeros(n_arms, np.int64), np.zeros(n_arms, np.int64)
    first_start = np.zeros(n_arms, np.int64)
    jss = np.zeros(n_arms)
    judged = np.zeros(n_arms)
    at90 = np.zeros((n_arms, 16), np.bool_)
    at90_n = np.zeros(n_arms, np.int64)
    earned = np.zeros((n_arms, 52))
    earned_sum = np.zeros(n_arms)
    q = np.zeros(n_arms)
    badges = np.zeros(n_arms, np.int64)
    score, ok = np.zeros(nw), np.zeros(nw, np.bool_)
    buf = np.empty((7, n_arms, weeks, HIST_BLOCK), np.int64)
    for path in range(paths):
        bp = path % HIST_BLOCK
        drawn = 0
        for a in range(n_arms):  # history feedback counts at the start
            sum_w[a] = 0.0
            sum_wx[a] = 0.0
            sum_e[a] = 0.0
            w_tot[a] = 0.0
            w_net[a] = 0.0
            w_cnt[a] = 0
            w_cl[a] = 0
            w_hcl[a] = 0
            e_tot[a] = 0.0
            e_net[a] = 0.0
            e_cnt[a] = 0
            for i in range(n_hist):
                w = h_value[i] if value_w else 1.0
                sum_w[a] += w
                sum_wx[a] += w * h_stars[i]
                sum_e[a] += (h_stars[i] - 1.0) * 0.25
                h_on[a, i] = True
                for k in range(nw):
                    if -h_end[i] < windows[k]:
                        w_tot[a, k] += h_jw[i]
                        w_net[a, k] += h_jw[i] * h_out[i]
                        w_cnt[a, k] += 1
                        w_hcl[a, k, h_client[i]] += 1
                        w_cl[a, k] += w_hcl[a, k, h_client[i]] == 1
            changed[a] = True
            n_rev[a], n_pend[a] = n_hist, 0
            slot_end[a, :] = -1
            active[a], next_ord[a], jobs[a], cw[a] = 0, 0, 0, 0
            first_start[a] = -1
            earned[a, :] = 0.0
            earned_sum[a] = 0.0
        for t in range(weeks):
            sending = False
            for a in range(n_arms):
                # 1. contracts end; feedback scheduled
                for j in range(cap):
                    if slot_end[a, j] == t:
                        slot_end[a, j] = -1
                        active[a] -= 1
                        k = slot_ord[a, j]
                        if table[k, C_LEFT]:
                            pend_at[a, n_pend[a]] = t + table[k, C_DELAY]
                            pend_k[a, n_pend[a]] = k
                            n_pend[a] += 1
                # JSS windows age: what ended W weeks ago leaves a window of W weeks
                if t > 0:
                    for k in range(nw):
                        e = t - windows[k]
                        if e >= 0 and e_cnt[a, e] > 0:
                            w_tot[a, k] -= e_tot[a, e]
                            w_net[a, k] -= e_net[a, e]
                            w_cnt[a, k] -= e_cnt[a, e]
                            w_cl[a, k] -= e_cnt[a, e]  # future contracts: a client each
                            changed[a] = True
                        for i in range(n_hist):
                            if h_on[a, i] and h_end[i] + windows[k] == t:
                                w_tot[a, k] -= h_jw[i]
                                w_net[a, k] -= h_jw[i] * h_out[i]
                                w_cnt[a, k] -= 1
                                w_hcl[a, k, h_client[i]] -= 1
                                w_cl[a, k] -= w_hcl[a, k, h_client[i]] == 0
                                changed[a] = True
                # 2. rule events: exclude_flagged removes the flagged history feedback
                if t == exclude_week[a]:
                    for i in range(n_hist):
                        if h_flagged[i] and h_on[a, i]:
                            h_on[a, i] = False
                            w = h_value[i] if value_w else 1.0
                            sum_w[a] -= w
                            sum_wx[a] -= w * h_stars[i]
                            sum_e[a] -= (h_stars[i] - 1.0) * 0.25
                            n_rev[a] -= 1
                            for k in range(nw):
                                if t - h_end[i] < windows[k]:
                                    w_tot[a, k] -= h_jw[i]
                                    w_net[a, k] -= h_jw[i] * h_out[i]
                                    w_cnt[a, k] -= 1
                                    w_hcl[a, k, h_client[i]] -= 1
                                    w_cl[a, k] -= w_hcl[a, k, h_client[i]] == 0
                            changed[a] = True
                # 3. feedback arrives
                i = 0
                while i < n_pend[a]:
                    if pend_at[a, i] != t:
                        i += 1
                        continue
                    k = pend_k[a, i]
                    stars, dur, delay = table[k, C_STARS], table[k, C_DURATION], table[k, C_DELAY]
                    value = gross * dur
                    w = value if value_w else 1.0
                    sum_w[a] += w
                    sum_wx[a] += w * stars
                    sum_e[a] += (stars - 1) * 0.25
                    n_rev[a] += 1
                    jw = 1.5 if value > 1000 else 1.25 if value > 250 else 1.0
                    out = 1.0 if stars >= success_at else -1.0 if stars < fail_below else 0.0
                    e = t - delay
                    e_tot[a, e] += jw
                    e_net[a, e] += jw * out
                    e_cnt[a, e] += 1
                    for kw in range(nw):
                        if delay < windows[kw]:
                            w_tot[a, kw] += jw
                            w_net[a, kw] += jw * out
                            w_cnt[a, kw] += 1
                            w_cl[a, kw] += 1
                    changed[a] = True
                    n_pend[a] -= 1
                    pend_at[a, i] = pend_at[a, n_pend[a]]
                    pend_k[a, i] = pend_k[a, n_pend[a]]
                # 4. signals
                if t % update == 0 and changed[a]:
                    jss[a], judged[a] = _window_scores(
                        w_tot[a], w_net[a], w_cnt[a], w_cl[a], ok, score, min_c, min_cl,
                        best_of, trending,
                    )  # fmt: skip
                    changed[a] = False
                has = not math.isnan(jss[a])
                good = not has or jss[a] >= 90
                if t == 0:
                    at90[a, :] = good
                    at90_n[a] = 16 * good
                else:
                    at90_n[a] += int(good) - int(at90[a, t % 16])
                    at90[a, t % 16] = good
                badge = RISING_TALENT
                if has:
                    if tenure0 >= 0:
                        tenure_ok = t + tenure0 > 13
                    else:
                        tenure_ok = first_start[a] >= 0 and t - first_start[a] > 13
                    top = at90_n[a] >= 13 and earned_sum[a] + hist_earned[t] >= 1000.0
                    badge = TOP_RATED if top and tenure_ok else NO_BADGE
                badges[a] = badge
                n = n_rev[a]
                v = b_reviews * math.log1p(sum_e[a]) + price
                if use_stars and n > 0:
                    trust = n / (n + half) if half > 0 else 1.0
                    v += b_stars * trust * (sum_wx[a] / sum_w[a] - mm)
                if use_jss:
                    v += b_jss[_band(judged[a])] + b_badge[badge]
                q[a] = _win_prob(v, start, scale, q_grid)
                sending = sending or active[a] < cap
            # 5. proposals: one uniform per slot, shared by the arms
            if sending:
                for s in range(slots):
                    u[s] = rng.random()
            for a in range(n_arms):
                new = 0
                if active[a] < cap:
                    wins = 0
                    for s in range(slots):
                        wins += u[s] < q[a]
                    new = min(wins, cap - active[a])
                filled = 0
                for j in range(cap):
                    if filled == new:
                        break
                    if slot_end[a, j] < 0:
                        k = next_ord[a]
                        while drawn <= k:
                            _draw_contract(
                                rng, table, drawn, edges, p_end, rate, delay_max, weeks, harsh
                            )
                            drawn += 1
                        slot_end[a, j] = t + table[k, C_DURATION]
                        slot_ord[a, j] = k
                        next_ord[a] += 1
                        filled += 1
                if new > 0 and first_start[a] < 0:
                    first_start[a] = t
                # 6. work and money
                active[a] += new
                jobs[a] += new
                cw[a] += active[a]
                g = active[a] * gross
                earned_sum[a] += g - earned[a, t % 52]
                earned[a, t % 52] = g
                # 7. record the week: codes buffered, counted a block of paths at a time
                n = n_rev[a]
                code = math.floor(sum_wx[a] / sum_w[a] * 100.0 + 0.5) + 1 if n > 0 else 0
                buf[0, a, t, bp] = code
                buf[1, a, t, bp] = 0 if math.isnan(jss[a]) else int(jss[a]) + 1
                buf[2, a, t, bp] = math.floor(q[a] * 1e4 + 0.5)
                buf[3, a, t, bp] = active[a]
                buf[4, a, t, bp] = jobs[a]
                buf[5, a, t, bp] = cw[a]
                buf[6, a, t, bp] = badges[a]
        for a in range(n_arms):
            jobs_out[a, path] = jobs[a]
            cw_out[a, path] = cw[a]
        if bp == HIST_BLOCK - 1 or path == paths - 1:
            # week by week, so that a week's row of each histogram stays in cache
            for a in range(n_arms):
                for t in range(weeks):
                    for i in range(bp + 1):
                        h_stars_n[a, t, buf[0, a, t, i]] += 1
                        h_jss_n[a, t, buf[1, a, t, i]] += 1
                        h_q_n[a, t, buf[2, a, t, i]] += 1
                        h_active_n[a, t, buf[3, a, t, i]] += 1
                        h_jobs_n[a, t, buf[4, a, t, i]] += 1
                        h_cw_n[a, t, buf[5, a, t, i]] += 1
                        h_badge_n[a, t, buf[6, a, t, i]] += 1
    counts = (h_stars_n, h_jss_n, h_q_n, h_active_n, h_jobs_n, h_cw_n, h_badge_n)
    return jobs_out, cw_out, counts


def pack(m: ModelInputs) -> tuple:
    """The kernel's arguments (tuples of scalars and arrays of fixed types)."""
    ints = (
        m.weeks, m.capacity, m.slots, m.delay_max, len(m.arms), m.tenure0, m.update_weeks,
        int(m.use_stars), int(m.use_jss), int(m.value_weighted),
    ), (m.h_clients, m.harsh_shift)  # fmt: skip
    reals = (
        m.gross, m.p_end, m.feedback_rate, m.success_at, m.fail_below, m.b_stars, m.stars_half,
        m.b_reviews, m.price_term, m.market_mean,
    ), (m.grid_start, m.grid_scale, m.harsh_share)  # fmt: skip
    history = (
        m.exclude_week, m.star_edges, m.h_stars, m.h_value, m.h_end, m.h_flagged, m.h_client,
        m.hist_earned,
    )  # fmt: skip
    arrays = (history, (m.b_jss, m.b_badge, m.q_grid))
    jss_params = (m.jss_windows, m.best_of, m.trending, m.min_contracts, m.min_clients)
    return ints, reals, arrays, jss_params


def blocks(paths: int, seed: int, threads: int) -> list[tuple[int, np.random.Generator]]:
    """(paths, generator) per thread: one block and `default_rng(seed)` on one thread; else
    near-equal blocks, each with its own stream spawned from the seed."""
    if threads <= 1:
        return [(paths, np.random.default_rng(seed))]
    seeds = np.random.SeedSequence(seed).spawn(threads)
    sizes = [paths // threads + (i < paths % threads) for i in range(threads)]
    return [(n, np.random.default_rng(s)) for n, s in zip(sizes, seeds, strict=True)]


def simulate_blocks(m: ModelInputs, paths: int, seed: int, threads: int, kernel=None) -> tuple:
    """`kernel` (default `simulate`) over `blocks`, in threads; blocks' outputs joined in order."""
    kernel = simulate if kernel is None else kernel
    args = pack(m)
    parts = blocks(paths, seed, threads)
    if len(parts) == 1:
        return kernel(parts[0][0], parts[0][1], *args)
    with ThreadPoolExecutor(len(parts)) as pool:  # the kernel releases the GIL
        outs = list(pool.map(lambda p: kernel(p[0], p[1], *args), parts))
    jobs = np.concatenate([o[0] for o in outs], axis=1)
    cw = np.concatenate([o[1] for o in outs], axis=1)
    counts = tuple(sum(o[2][i] for o in outs) for i in range(len(outs[0][2])))
    return jobs, cw, counts


def run(
    sc: sim.Scenario, paths: int, seed: int = 1, threads: int = 1
) -> dict[str, dict[str, np.ndarray]]:
    """{arm: {"jobs", "earnings": per-path values at the horizon, "bands": {metric: (weeks, 6)
    weekly percentiles and mean}}} for `paths` paths, on `threads` threads."""
    m = model_inputs(sc)
    jobs, cw, counts = simulate_blocks(m, paths, seed, threads)
    stars, jss, q, active, jobs_n, cw_n, badge = counts
    out = {}
    for i, a in enumerate(m.arms):
        bands = {
            "stars": histogram_bands(stars[i, :, 1:], 0.01),  # code 0: no stars
            "jss": histogram_bands(jss[i, :, 1:], 1.0),
            "win_prob": histogram_bands(q[i], 1e-4),
            "active": histogram_bands(active[i], 1.0),
            "jobs": histogram_bands(jobs_n[i], 1.0),
            "earnings": histogram_bands(cw_n[i], m.net),
            "badge": histogram_bands(badge[i], 1.0),
        }
        out[a] = {"jobs": jobs[i], "earnings": cw[i] * m.net, "bands": bands}
    return out
