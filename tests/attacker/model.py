"""A linear model of published counts and what an attacker can prove about them.

Every count the attacker meets is a figure: a non-negative whole number, known to lie in
an interval (what its own publication says: shown exactly, rounded, suppressed).
Relations are linear rows over figures (a total equals the sum of its parts, a subset
is at most its superset). For each target figure (a suppressed count) `solve` decides,
with this module's own machinery and no code of the package under test, whether the
rows leave it its protection interval [floor, goal]: some solution takes it down to
its floor and some up to its goal. Where they do not, it finds the lowest and highest
value the rows allow, and whether one value is left (exact).

1. figures known exactly are folded into the row bounds;
2. the remaining figures split into connected components (rows link figures); each
   component is solved alone;
3. interval propagation over the rows (rounded to whole numbers: counts are integers)
   gives a box that every solution lies in: a box bound beyond the protection interval
   proves the narrowing, and a solution that meets a box bound proves it sharp;
4. each component is one HiGHS LP whose objective alone changes between solves: sums
   of the open targets first (one solution settles many), then for each target left a
   small LP around it, the rest of the component held at a known solution (its
   solutions are solutions of the whole), and only then the whole LP for that target.

Rows carry a source name. A component whose rows contradict each other is solved again
without the rows of the sources marked optional (relations the attacker guessed, such
as "one file is one provider's month"), and the contradiction is reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

TOLERANCE = 1e-6
INF = np.inf


@dataclass
class Row:
    cols: np.ndarray
    coefs: np.ndarray
    lower: float
    upper: float
    source: str


@dataclass
class Bounds:
    """What the rows prove of each target figure."""

    lower: np.ndarray  # proven whole-number lower bound (the minimum when lower_is_min)
    upper: np.ndarray  # the maximum when upper_is_max, else a value some solution reaches
    lower_is_min: np.ndarray
    upper_is_max: np.ndarray
    exact: np.ndarray  # one value left
    infeasible: np.ndarray  # the figure's relations contradict each other
    solves: int = 0
    contradicted_sources: set[str] = field(default_factory=set)


class Model:
    """Figures by key, their intervals, and the linear rows between them."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}
        self.keys: list[Hashable] = []
        self._lower: list[float] = []
        self._upper: list[float] = []
        self.rows: list[Row] = []
        self.contradictions: list[str] = []

    def __len__(self) -> int:
        return len(self.keys)

    def figure(self, key: Hashable) -> int:
        """The figure of `key`, new (any whole number from 0) if not seen before."""
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.keys)
            self.keys.append(key)
            self._lower.append(0.0)
            self._upper.append(INF)
        return found

    def bound(self, key: Hashable, lower: float, upper: float) -> int:
        """Intersect the figure's interval with [lower, upper]."""
        return self.bound_of(self.figure(key), lower, upper)

    def bound_of(self, i: int, lower: float, upper: float) -> int:
        """`bound` by figure number."""
        key = self.keys[i]
        self._lower[i] = max(self._lower[i], lower)
        self._upper[i] = min(self._upper[i], upper)
        if self._lower[i] > self._upper[i] + TOLERANCE:
            self.contradictions.append(f"{key}: readings do not meet")
        return i

    @property
    def lower(self) -> np.ndarray:
        return np.array(self._lower)

    @property
    def upper(self) -> np.ndarray:
        return np.array(self._upper)

    def row(
        self,
        terms: Iterable[tuple[Hashable, float]],
        lower: float,
        upper: float,
        source: str,
    ) -> None:
        """lower <= sum(coef * figure) <= upper, figures by key."""
        self.row_of([(self.figure(key), c) for key, c in terms], lower, upper, source)

    def row_of(
        self, terms: Iterable[tuple[int, float]], lower: float, upper: float, source: str
    ) -> None:
        """lower <= sum(coef * figure) <= upper, figures by number; one named twice adds up."""
        coef: dict[int, float] = defaultdict(float)
        for i, c in terms:
            coef[int(i)] += c
        coef = {i: c for i, c in coef.items() if c != 0}
        if not coef:
            return
        cols = np.fromiter(coef, dtype=np.int64, count=len(coef))
        self.rows.append(
            Row(cols, np.array([coef[i] for i in cols]), float(lower), float(upper), source)
        )

    def total(
        self,
        total: Hashable,
        parts: Sequence[Hashable],
        source: str,
        subset: bool = False,
    ) -> None:
        """total = sum(parts), or total >= sum(parts) when the parts are only a subset."""
        self.total_of(self.figure(total), [self.figure(p) for p in parts], source, subset=subset)

    def total_of(self, total: int, parts: Sequence[int], source: str, subset: bool = False) -> None:
        """`total` by figure number."""
        if len(parts) == 0:
            return
        self.row_of(
            [(total, 1.0), *((p, -1.0) for p in parts)], 0.0, INF if subset else 0.0, source
        )

    def trivial_lower(self, hidden: np.ndarray, lower: np.ndarray | None = None) -> np.ndarray:
        """Per figure: the lowest value the relations give when no hidden count is bounded
        above (each only at least its reading, 1 for a suppressed count).

        This is what the table's shape gives away by itself: a year to date over three
        suppressed months is at least 3; a part that is the only unknown of a relation
        is what the shown figures leave. Protection starts there; whatever lifts a lowest
        value above it uses some hidden count's upper bound.
        """
        lower = self.lower if lower is None else lower
        lower = np.concatenate([lower, np.zeros(len(self) - len(lower))])
        upper = np.where(hidden, INF, self.upper)
        starts = np.concatenate([[0], np.cumsum([len(r.cols) for r in self.rows])])
        if not self.rows:
            return np.maximum(lower, np.where(hidden, 1.0, 0.0))
        found = propagate(
            starts.astype(np.int64),
            np.concatenate([r.cols for r in self.rows]),
            np.concatenate([r.coefs for r in self.rows]),
            np.array([r.lower for r in self.rows]),
            np.array([r.upper for r in self.rows]),
            np.minimum(lower, upper),
            upper,
            passes=200,
        )
        return lower if found is None else found[0]

    def structural_lower(
        self, hidden: np.ndarray, floors: np.ndarray, figures: np.ndarray
    ) -> np.ndarray:
        """`floors` (per figure) with those of `figures` raised to the lowest value the
        rows give over lowest values alone.

        Propagation reads one row at a time and misses a floor that takes two: a total
        over two hidden settings that equals a year to date over three hidden months is
        at least 3, where each row alone gives 2. Here every hidden count is at least its
        floor and free upward, and every other figure is its lowest reading, free upward
        in each row it is in (a published zero stays zero): still no upper bound used,
        so still only what the table's shape gives away.
        """
        out = np.asarray(floors, dtype=float).copy()
        figures = np.unique(np.asarray(figures, dtype=np.int64))
        if figures.size == 0 or not self.rows:
            return out
        lower, upper = self.lower, self.upper
        n = len(self)
        parent = np.arange(n)

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return int(i)

        kept: list[tuple[np.ndarray, np.ndarray, float, float]] = []
        for row in self.rows:
            mask = hidden[row.cols]
            if not mask.any():
                continue
            known_cols, known_coefs = row.cols[~mask], row.coefs[~mask]
            constant = float(np.dot(known_coefs, lower[known_cols]))
            free = upper[known_cols] > 0
            lo = -INF if (free & (known_coefs > 0)).any() else row.lower - constant
            hi = INF if (free & (known_coefs < 0)).any() else row.upper - constant
            if lo == -INF and hi == INF:
                continue
            cols = row.cols[mask]
            kept.append((cols, row.coefs[mask], lo, hi))
            first = find(int(cols[0]))
            for c in cols[1:]:
                parent[find(int(c))] = first
        by_component: dict[int, list[int]] = defaultdict(list)
        for r, (cols, _, _, _) in enumerate(kept):
            by_component[find(int(cols[0]))].append(r)
        wanted: dict[int, list[int]] = defaultdict(list)
        for f in figures.tolist():
            wanted[find(f)].append(f)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        for root, mine in wanted.items():
            rows = by_component.get(root, [])
            if not rows:
                continue
            cols = np.unique(np.concatenate([kept[r][0] for r in rows]))
            position = {int(c): i for i, c in enumerate(cols)}
            highs.clearModel()
            highs.addVars(len(cols), out[cols], np.full(len(cols), INF))
            for r in rows:
                rc, rv, lo, hi = kept[r]
                idx = np.array([position[int(c)] for c in rc], dtype=np.int32)
                highs.addRow(lo, hi, len(idx), idx, rv)
            for f in mine:
                cost = np.zeros(len(cols))
                cost[position[f]] = 1.0
                highs.changeColsCost(len(cols), np.arange(len(cols), dtype=np.int32), cost)
                highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
                highs.run()
                if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                    value = highs.getInfo().objective_function_value
                    out[f] = max(out[f], float(np.ceil(value - TOLERANCE)))
        return out

    def solve(
        self,
        targets: np.ndarray,
        goals: np.ndarray,
        floors: np.ndarray,
        small_below: float = INF,
        optional_sources: Sequence[str] = (),
        exactness: bool = True,
    ) -> Bounds:
        """Decide each target figure against its protection interval [floor, goal].

        A target reached down to its floor and up to its goal by solutions is protected;
        for the others the bound beyond the interval is proven, and whether the figure is
        exact. `small_below`: for a narrowed target, whether its lowest value is below
        this is settled too (a count certainly k or more is held to less). Without
        `exactness`, a small target once proven narrowed is not asked whether it is
        exact too (it fails either way): quicker on a leaking publication.
        """
        targets = np.asarray(targets, dtype=np.int64)
        solver = _Solver(self, optional_sources, small_below, exactness)
        return solver.run(targets, np.asarray(goals, float), np.asarray(floors, float))


_FIELDS = ("lo", "hi", "below", "above", "lo_min", "hi_max")


class _Solver:
    def __init__(
        self, model: Model, optional_sources: Sequence[str], small_below: float, exactness: bool
    ) -> None:
        self.exactness = exactness
        self.model = model
        self.n = len(model)
        self.lower = model.lower
        self.upper = model.upper
        self.optional = set(optional_sources)
        self.small_below = small_below
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.small_highs = highspy.Highs()
        self.small_highs.setOptionValue("output_flag", False)
        self.solves = 0
        self.contradicted: set[str] = set()

    def run(self, targets: np.ndarray, goals: np.ndarray, floors: np.ndarray) -> Bounds:
        goal = np.full(self.n, -INF)
        floor = np.full(self.n, INF)
        np.maximum.at(goal, targets, goals)
        np.minimum.at(floor, targets, floors)
        is_target = np.zeros(self.n, dtype=bool)
        is_target[targets] = True
        found, bad = self._solve_rows(
            list(range(len(self.model.rows))), is_target, goal, floor, allow_retry=True
        )
        lo, hi = np.ceil(found["lo"] - TOLERANCE), np.floor(found["hi"] + TOLERANCE)
        above = np.floor(found["above"] + TOLERANCE)
        exact = (lo == hi) & ~bad
        upper = np.where(found["hi_max"] > 0, hi, above)
        return Bounds(
            lower=lo[targets],
            upper=upper[targets],
            lower_is_min=(found["lo_min"] > 0)[targets],
            upper_is_max=(found["hi_max"] > 0)[targets],
            exact=exact[targets],
            infeasible=bad[targets],
            solves=self.solves,
            contradicted_sources=self.contradicted,
        )

    def _solve_rows(
        self,
        row_ids: list[int],
        is_target: np.ndarray,
        goal: np.ndarray,
        floor: np.ndarray,
        allow_retry: bool,
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        n = self.n
        found = {name: np.full(n, np.nan) for name in _FIELDS}
        bad = np.zeros(n, dtype=bool)
        fixed = np.abs(self.upper - self.lower) <= TOLERANCE
        for name in ("lo", "below"):
            found[name][fixed] = self.lower[fixed]
        for name in ("hi", "above"):
            found[name][fixed] = self.upper[fixed]
        found["lo_min"][fixed] = found["hi_max"][fixed] = 1
        bad[self.lower > self.upper + TOLERANCE] = True

        # fold the exactly known figures into the rows
        folded: list[tuple[np.ndarray, np.ndarray, float, float, int]] = []
        for r in row_ids:
            row = self.model.rows[r]
            known = fixed[row.cols]
            constant = float(row.coefs[known] @ self.lower[row.cols[known]]) if known.any() else 0
            cols, coefs = row.cols[~known], row.coefs[~known]
            low, up = row.lower - constant, row.upper - constant
            if cols.size == 0:
                if low > TOLERANCE or up < -TOLERANCE:
                    self.contradicted.add(row.source)
                continue
            folded.append((cols, coefs, low, up, r))

        # connected components of the figures still unknown
        parent = np.arange(n)

        def find(i: int) -> int:
            root = i
            while parent[root] != root:
                root = parent[root]
            while parent[i] != root:
                parent[i], i = root, parent[i]
            return root

        for cols, *_ in folded:
            a = find(int(cols[0]))
            for c in cols[1:]:
                b = find(int(c))
                if a != b:
                    parent[b] = a
        roots = np.array([find(i) for i in range(n)])
        wanted_roots = set(roots[is_target & ~fixed].tolist())
        rows_of: dict[int, list[int]] = defaultdict(list)
        for k, (cols, *_rest) in enumerate(folded):
            root = int(roots[cols[0]])
            if root in wanted_roots:
                rows_of[root].append(k)
        members: dict[int, list[int]] = defaultdict(list)
        for i in np.flatnonzero(np.isin(roots, list(wanted_roots))):
            members[int(roots[i])].append(int(i))

        for root, cols_list in members.items():
            cols = np.array(cols_list)
            comp_rows = [folded[k] for k in rows_of.get(root, [])]
            result = self._solve_component(cols, comp_rows, is_target, goal, floor)
            if result is None:
                sources = {self.model.rows[r[4]].source for r in comp_rows}
                optional = sources & self.optional
                if allow_retry and optional:
                    self.contradicted |= optional
                    keep = [r[4] for r in comp_rows if self.model.rows[r[4]].source not in optional]
                    sub = np.zeros(n, dtype=bool)
                    sub[cols] = True
                    again, again_bad = self._solve_rows(
                        keep, is_target & sub, goal, floor, allow_retry=False
                    )
                    for name in _FIELDS:
                        found[name][cols] = again[name][cols]
                    bad[cols] = again_bad[cols]
                else:
                    self.contradicted |= sources
                    bad[cols] = True
                continue
            for name in _FIELDS:
                found[name][cols] = result[name]
        return found, bad

    def _solve_component(
        self,
        cols: np.ndarray,
        rows: list[tuple[np.ndarray, np.ndarray, float, float, int]],
        is_target: np.ndarray,
        goal: np.ndarray,
        floor: np.ndarray,
    ) -> dict[str, np.ndarray] | None:
        """What the rows prove over `cols` (see `_Settled`); None if infeasible."""
        local = {int(c): j for j, c in enumerate(cols)}
        k = len(cols)
        starts, index, values, row_lo, row_hi = [0], [], [], [], []
        for r_cols, r_coefs, low, up, _ in rows:
            index.extend(local[int(c)] for c in r_cols)
            values.extend(r_coefs.tolist())
            starts.append(len(index))
            row_lo.append(low)
            row_hi.append(up)
        system = _System(
            np.array(starts, dtype=np.int64),
            np.array(index, dtype=np.int64),
            np.array(values, dtype=float),
            np.array(row_lo, dtype=float),
            np.array(row_hi, dtype=float),
        )
        box = propagate(*system.arrays(), self.lower[cols].copy(), self.upper[cols].copy())
        if box is None:
            return None
        box_lo, box_hi = box
        state = _Settled(
            is_target[cols],
            box_lo,
            box_hi,
            goal[cols],
            floor[cols],
            self.small_below,
            self.exactness,
        )
        if not rows or k == 1:
            state.lo_min[:] = state.hi_max[:] = True
            state.below, state.above = box_lo.copy(), box_hi.copy()
            return state.result()
        lp = _ComponentLP(self.highs, k, system, box_lo, box_hi, state.want_up)

        seen: list[np.ndarray] = []

        def solved(x: np.ndarray | None) -> np.ndarray | None:
            self.solves += 1
            if x is not None:
                state.settle(x)
                seen.append(x)
            return x

        # feasibility, and many targets down to their floor at once
        low_witness = solved(lp.minimize(state.interest.astype(float)))
        if low_witness is None:
            return None
        while (open_ := state.open_low()).sum() >= 2:
            before = open_.sum()
            if solved(lp.minimize(open_.astype(float))) is None:
                break
            if before - state.open_low().sum() < 5:
                break
        # many up to their goal at once
        while (open_ := state.open_high()).sum() >= 2:
            before = open_.sum()
            if solved(lp.maximize_capped(open_)) is None:
                break
            if before - state.open_high().sum() < 5:
                break

        # each target left: a small LP around it first, then the whole component. The
        # figures around it are held at the mean of the solutions seen (a solution too,
        # the rows being linear), which leaves room both ways.
        centre = np.mean(seen, axis=0)
        neighbours = _Neighbours(system, k)
        small = _ComponentLP(self.small_highs, 0, None, None, None, None)
        for j in np.flatnonzero(state.open_any()):
            for maximize in (False, True):
                if not state.open_side(j, maximize):
                    continue
                cap = state.want_up[j] if maximize and state.open_high()[j] else None
                x = self._local(small, neighbours, system, j, centre, box_lo, box_hi, maximize, cap)
                self.solves += 1
                if x is not None:
                    state.settle(x)
        for j in np.flatnonzero(state.open_any()):
            for maximize in (False, True):
                if not state.open_side(j, maximize):
                    continue
                cost = np.zeros(k)
                cost[j] = 1.0
                self.solves += 1
                if maximize:
                    x, unbounded = lp.maximize(cost)
                    if unbounded:
                        state.hi[j], state.hi_max[j], state.above[j] = INF, True, INF
                        continue
                else:
                    x = lp.minimize(cost)
                if x is None:
                    return None
                if maximize:
                    state.hi[j] = min(state.hi[j], np.floor(x[j] + TOLERANCE))
                    state.hi_max[j] = True
                else:
                    state.lo[j] = max(state.lo[j], np.ceil(x[j] - TOLERANCE))
                    state.lo_min[j] = True
                state.settle(x)
        return state.result()

    def _local(
        self,
        small: _ComponentLP,
        neighbours: _Neighbours,
        system: _System,
        j: int,
        witness: np.ndarray,
        box_lo: np.ndarray,
        box_hi: np.ndarray,
        maximize: bool,
        cap: float | None,
    ) -> np.ndarray | None:
        """A solution of the component that moves figure j as far as a small LP can.

        The figures near j are free, the others held at `witness` (a solution): every
        solution of the small LP, with the witness elsewhere, solves the whole component.
        """
        near = neighbours.around(j)
        rows = neighbours.rows_touching(near)
        inside = np.zeros(len(witness), dtype=bool)
        inside[near] = True
        position = np.full(len(witness), -1)
        position[near] = np.arange(len(near))
        starts, index, values, row_lo, row_hi = [0], [], [], [], []
        for r in rows:
            a, b = system.starts[r], system.starts[r + 1]
            cols, coefs = system.index[a:b], system.values[a:b]
            keep = inside[cols]
            constant = float(coefs[~keep] @ witness[cols[~keep]])
            index.extend(position[cols[keep]].tolist())
            values.extend(coefs[keep].tolist())
            starts.append(len(index))
            row_lo.append(system.row_lo[r] - constant)
            row_hi.append(system.row_hi[r] - constant)
        sub = _System(
            np.array(starts, dtype=np.int64),
            np.array(index, dtype=np.int64),
            np.array(values, dtype=float),
            np.array(row_lo, dtype=float),
            np.array(row_hi, dtype=float),
        )
        lo, hi = box_lo[near].copy(), box_hi[near].copy()
        me = int(position[j])
        if cap is not None:
            hi[me] = min(hi[me], cap)
        small.rebuild(len(near), sub, lo, hi)
        cost = np.zeros(len(near))
        cost[me] = 1.0
        if maximize:
            x, _ = small.maximize(cost)
        else:
            x = small.minimize(cost)
        if x is None:
            return None
        found = witness.copy()
        found[near] = x
        return found


@dataclass
class _System:
    """Rows of one component in compressed form (row r: entries starts[r]:starts[r+1])."""

    starts: np.ndarray
    index: np.ndarray
    values: np.ndarray
    row_lo: np.ndarray
    row_hi: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return self.starts, self.index, self.values, self.row_lo, self.row_hi


class _Neighbours:
    """Figures that share rows with a figure, a few steps out."""

    def __init__(self, system: _System, k: int, depth: int = 4, most: int = 1500) -> None:
        self.system = system
        self.depth, self.most = depth, most
        rows = np.repeat(np.arange(len(system.starts) - 1), np.diff(system.starts))
        order = np.argsort(system.index, kind="stable")
        self.col_rows = rows[order]
        self.col_starts = np.searchsorted(system.index[order], np.arange(k + 1))

    def rows_of(self, col: int) -> np.ndarray:
        return self.col_rows[self.col_starts[col] : self.col_starts[col + 1]]

    def around(self, j: int) -> np.ndarray:
        seen = {j}
        frontier = [j]
        s = self.system
        for _ in range(self.depth):
            nxt = []
            for c in frontier:
                for r in self.rows_of(c):
                    for other in s.index[s.starts[r] : s.starts[r + 1]].tolist():
                        if other not in seen:
                            seen.add(other)
                            nxt.append(other)
                if len(seen) >= self.most:
                    break
            frontier = nxt
            if len(seen) >= self.most:
                break
        return np.array(sorted(seen), dtype=np.int64)

    def rows_touching(self, cols: np.ndarray) -> np.ndarray:
        return np.unique(np.concatenate([self.rows_of(int(c)) for c in cols]))


class _Settled:
    """What is known so far of a component's targets.

    lo/hi: proven bounds (the box, then LP optima); below/above: the lowest and highest
    value some solution was seen to take. Protected: below reaches the floor and above
    the goal. Narrowed: lo above the floor or hi below the goal. Exact: lo == hi; not
    exact once above - below >= 1. A target certainly `small_below` or more (large) is
    only asked whether it is exact.
    """

    def __init__(
        self,
        interest: np.ndarray,
        box_lo: np.ndarray,
        box_hi: np.ndarray,
        goal: np.ndarray,
        floor: np.ndarray,
        small_below: float,
        exactness: bool = True,
    ) -> None:
        k = len(interest)
        self.exactness = exactness
        self.interest = interest
        self.lo, self.hi = box_lo.copy(), box_hi.copy()
        self.want_up = np.minimum(goal, box_hi)
        self.goal, self.floor = goal, floor
        self.small_below = small_below
        self.below, self.above = np.full(k, INF), np.full(k, -INF)
        self.lo_min = np.zeros(k, dtype=bool)
        self.hi_max = np.zeros(k, dtype=bool)

    def settle(self, x: np.ndarray) -> None:
        """A solution proves each value it takes possible, and meets box bounds."""
        self.below = np.minimum(self.below, x)
        self.above = np.maximum(self.above, x)
        self.lo_min |= self.below <= self.lo + TOLERANCE
        self.hi_max |= self.above >= self.hi - TOLERANCE

    def _narrowed(self) -> np.ndarray:
        """Narrowed (or large): what is left to find is whether it is exact, and small."""
        return (
            (self.lo > self.floor + TOLERANCE) | (self.hi < self.goal - TOLERANCE) | self._large()
        )

    def _second_value(self) -> np.ndarray:
        return self.above - self.below >= 1 - TOLERANCE

    def _large(self) -> np.ndarray:
        """Certainly `small_below` or more: held only to not being exact."""
        return self.lo >= self.small_below - TOLERANCE

    def open_low(self) -> np.ndarray:
        """Down to the floor not yet shown, nor that it cannot go there."""
        return (
            self.interest
            & ~self._large()
            & (self.below > self.floor + TOLERANCE)
            & ~(self.lo > self.floor + TOLERANCE)
        )

    def open_high(self) -> np.ndarray:
        return (
            self.interest
            & ~self._large()
            & (self.above < self.want_up - TOLERANCE)
            & ~(self.hi < self.goal - TOLERANCE)
        )

    def open_any(self) -> np.ndarray:
        return (
            self.open_low()
            | self.open_high()
            | self._open_narrowed_low()
            | self._open_narrowed_high()
        )

    def _open_narrowed_low(self) -> np.ndarray:
        """Narrowed: still to tell exact (a second value) and small (lowest below k)."""
        narrowed = self.interest & self._narrowed() & ~self.lo_min
        unknown_small = (self.below >= self.small_below) & (self.lo < self.small_below)
        ask_exact = self.exactness | self._large()
        return narrowed & ((~self._second_value() & ask_exact) | unknown_small)

    def _open_narrowed_high(self) -> np.ndarray:
        narrowed = self.interest & self._narrowed() & ~self.hi_max
        return narrowed & ~self._second_value() & (self.exactness | self._large())

    def open_side(self, j: int, maximize: bool) -> bool:
        if maximize:
            return bool(self.open_high()[j] or self._open_narrowed_high()[j])
        return bool(self.open_low()[j] or self._open_narrowed_low()[j])

    def result(self) -> dict[str, np.ndarray]:
        rest = ~self.interest
        return {
            "lo": self.lo,
            "hi": self.hi,
            "below": np.where(rest, self.lo, self.below),
            "above": np.where(rest, self.hi, self.above),
            "lo_min": (self.lo_min | rest).astype(float),
            "hi_max": (self.hi_max | rest).astype(float),
        }


class _ComponentLP:
    """One LP; extra columns y_j <= x_j, y_j <= goal_j serve capped sweeps."""

    def __init__(
        self,
        highs: highspy.Highs,
        k: int,
        system: _System | None,
        box_lo: np.ndarray | None,
        box_hi: np.ndarray | None,
        goal: np.ndarray | None,
    ) -> None:
        self.h = highs
        self.k = 0
        if system is not None:
            self.rebuild(k, system, box_lo, box_hi, goal)

    def rebuild(
        self,
        k: int,
        system: _System,
        box_lo: np.ndarray,
        box_hi: np.ndarray,
        goal: np.ndarray | None = None,
    ) -> None:
        h = self.h
        h.clearModel()
        self.k = k
        h.addVars(k, box_lo, box_hi)
        m = len(system.row_lo)
        if m:
            h.addRows(
                m,
                system.row_lo,
                system.row_hi,
                len(system.index),
                system.starts[:-1],
                system.index,
                system.values,
            )
        self.capped = goal is not None
        if self.capped:
            # y_j in [box_lo_j, goal_j] and x_j - y_j >= 0
            cap = np.maximum(np.where(np.isfinite(goal), goal, box_lo), box_lo)
            h.addVars(k, box_lo, cap)
            link_index = np.empty(2 * k, dtype=np.int64)
            link_index[0::2] = np.arange(k)
            link_index[1::2] = np.arange(k, 2 * k)
            h.addRows(
                k,
                np.zeros(k),
                np.full(k, INF),
                2 * k,
                np.arange(0, 2 * k, 2),
                link_index,
                np.tile([1.0, -1.0], k),
            )
        self.width = 2 * k if self.capped else k
        self.all_cols = np.arange(self.width, dtype=np.int64)

    def _run(self, cost: np.ndarray, sense: highspy.ObjSense) -> highspy.HighsModelStatus:
        full = np.zeros(self.width)
        full[: len(cost)] = cost
        self.h.changeColsCost(self.width, self.all_cols, full)
        self.h.changeObjectiveSense(sense)
        self.h.run()
        return self.h.getModelStatus()

    def _x(self) -> np.ndarray:
        return np.array(self.h.getSolution().col_value[: self.k])

    def minimize(self, cost: np.ndarray) -> np.ndarray | None:
        status = self._run(cost, highspy.ObjSense.kMinimize)
        return self._x() if status == highspy.HighsModelStatus.kOptimal else None

    def maximize(self, cost: np.ndarray) -> tuple[np.ndarray | None, bool]:
        status = self._run(cost, highspy.ObjSense.kMaximize)
        if status == highspy.HighsModelStatus.kOptimal:
            return self._x(), False
        unbounded = status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        )
        return None, unbounded

    def maximize_capped(self, which: np.ndarray) -> np.ndarray | None:
        cost = np.concatenate([np.zeros(self.k), which.astype(float)])
        status = self._run(cost, highspy.ObjSense.kMaximize)
        return self._x() if status == highspy.HighsModelStatus.kOptimal else None


def propagate(
    starts: np.ndarray,
    index: np.ndarray,
    values: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    passes: int = 60,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Tighten whole-number bounds from the rows until they stop moving; None if empty.

    For an entry a*x of a row with bounds [L, U]: a*x <= U - (least the others can add)
    and a*x >= L - (most the others can add). Counts are whole numbers, so each bound
    is rounded inwards.
    """
    lower, upper = np.ceil(lower - TOLERANCE), np.floor(upper + TOLERANCE)
    if index.size == 0:
        return (lower, upper) if (lower <= upper).all() else None
    row_of = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    m = len(starts) - 1
    pos = values > 0
    for _ in range(passes):
        lo_x, hi_x = lower[index], upper[index]
        least = np.where(pos, values * lo_x, values * hi_x)
        most = np.where(pos, values * hi_x, values * lo_x)
        least_inf = ~np.isfinite(least)
        most_inf = ~np.isfinite(most)
        least_sum = np.bincount(row_of, np.where(least_inf, 0.0, least), m)
        most_sum = np.bincount(row_of, np.where(most_inf, 0.0, most), m)
        least_n = np.bincount(row_of, least_inf, m)
        most_n = np.bincount(row_of, most_inf, m)
        others_least = np.where(
            least_n[row_of] - least_inf > 0, -INF, least_sum[row_of] - np.where(least_inf, 0, least)
        )
        others_most = np.where(
            most_n[row_of] - most_inf > 0, INF, most_sum[row_of] - np.where(most_inf, 0, most)
        )
        with np.errstate(invalid="ignore"):
            cap = (row_hi[row_of] - others_least) / values  # a*x <= cap*a
            base = (row_lo[row_of] - others_most) / values
        cap = np.where(np.isnan(cap), np.where(pos, INF, -INF), cap)
        base = np.where(np.isnan(base), np.where(pos, -INF, INF), base)
        new_upper = np.where(pos, cap, base)
        new_lower = np.where(pos, base, cap)
        up = upper.copy()
        low = lower.copy()
        np.minimum.at(up, index, np.floor(new_upper + TOLERANCE))
        np.maximum.at(low, index, np.ceil(new_lower - TOLERANCE))
        if (low > up).any():
            return None
        if np.array_equal(up, upper) and np.array_equal(low, lower):
            break
        lower, upper = low, up
    return lower, upper
