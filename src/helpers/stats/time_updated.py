"""Counting-process data with covariates that change during follow-up (time-updated covariates).

:func:`time_updated_intervals` splits each subject's follow-up ``(0, T]`` at the times its
covariates change (an exposure that starts, an exposure window that ends, a new performance
status assessment) and gives every interval the values known at its start: the last change at
or before it (last observation carried forward). Its output goes to
:func:`helpers.stats.survival.cox_time_varying`.

Rules (the same as R's ``survival::tmerge`` with ``tdc()``):

* a change at time ``c`` applies to the intervals that start at or after ``c``: ``(c, next]``;
  a value measured on the day of the event never explains that event;
* changes at or before the origin (``c <= 0``) set the value at the origin, the latest of them
  winning (e.g. the last assessment before progression);
* changes at or after the end of follow-up (``c >= T``) are ignored: they cannot have changed the
  outcome;
* the event sits on the subject's last interval only;
* before a subject's first change a value is ``initial`` (NaN unless given).

Why hand-written: lifelines' ``add_covariate_to_timeline`` (0.30) turns a change before the
origin into an interval with negative times and empty covariates instead of carrying it into the
first interval, and casts the event column to bool; the rules above are a few lines of pandas.

This module knows nothing of cohorts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.errors import InputError, Violation, check, raise_violations
from helpers.stats import survival_checks as checks

__all__ = ["time_updated_intervals"]


def time_updated_intervals(
    subjects: pd.DataFrame,
    changes: pd.DataFrame,
    id_col: str,
    time_col: str,
    event_col: str,
    value_cols: Sequence[str],
    *,
    change_time_col: str = "time",
    initial: Mapping[str, float] | None = None,
    start_col: str = "start",
    stop_col: str = "stop",
) -> pd.DataFrame:
    """Split follow-up at covariate changes; each interval carries the values known at its start.

    Parameters
    ----------
    subjects : pandas.DataFrame
        One row per subject: ``id_col``, follow-up time ``time_col`` (> 0), ``event_col`` (0/1),
        and any time-fixed covariates (copied to every interval of the subject).
    changes : pandas.DataFrame
        One row per change: ``id_col``, ``change_time_col`` (same origin and units as
        ``time_col``) and the ``value_cols``. A NaN value means "this column does not change
        here", so one table can hold the changes of several covariates. Two changes of a column
        at the same time: the later row wins. Subjects without any row keep ``initial``.
    id_col, time_col, event_col : str
        Columns of ``subjects``.
    value_cols : sequence of str
        The time-updated covariates (columns of ``changes``; not columns of ``subjects``).
    change_time_col : str, default "time"
        Time column of ``changes``.
    initial : mapping, optional
        Value of a column before a subject's first change of it (default NaN: unknown).
    start_col, stop_col : str
        Names of the interval columns.

    Returns
    -------
    pandas.DataFrame
        ``id_col, start_col, stop_col, event_col``, the ``value_cols`` and the time-fixed
        columns, sorted by subject and start; the intervals of a subject tile ``(0, T]``.

    Raises
    ------
    helpers.errors.InputError
        Missing columns, duplicate subjects, bad times or events, changes for unknown subjects
        or with a missing or infinite time, non-numeric values.
    """
    where = "time_updated_intervals"
    value_cols = list(value_cols)
    initial = dict(initial or {})
    checks.require_frame(subjects, [id_col, time_col, event_col], where, "subjects")
    checks.require_frame(changes, [id_col, change_time_col, *value_cols], where, "changes")
    clash = [c for c in [*value_cols, start_col, stop_col] if c in subjects.columns]
    if clash:
        raise InputError(f"{where}: column(s) {clash} exist in subjects already")
    unknown = [c for c in initial if c not in value_cols]
    if unknown:
        raise InputError(f"{where}: initial values for columns that are not value_cols: {unknown}")
    violations: list[Violation] = []
    shown = [id_col, time_col, event_col]
    if checks.check_time(violations, subjects, time_col, "subjects", show=shown):
        zero = checks.floats(subjects[time_col]) == 0
        check(violations, subjects, zero, table="subjects", column=time_col, rule="must be > 0", show=shown)
    checks.check_event(violations, subjects, event_col, "subjects", show=shown)
    checks.check_complete(violations, subjects, id_col, "subjects", show=shown)
    check(
        violations,
        subjects,
        subjects[id_col].duplicated(keep=False).to_numpy(),
        table="subjects",
        column=id_col,
        rule="must be unique (one row per subject)",
        show=shown,
    )
    cshown = [id_col, change_time_col]
    check(
        violations,
        changes,
        ~changes[id_col].isin(subjects[id_col]).to_numpy(),
        table="changes",
        column=id_col,
        rule="must be a subject of the subjects table",
        show=cshown,
    )
    change_time = pd.to_numeric(changes[change_time_col], errors="coerce").to_numpy(dtype=float)
    check(
        violations,
        changes,
        ~np.isfinite(change_time),
        table="changes",
        column=change_time_col,
        rule="must be a finite number",
        show=cshown,
    )
    for column in value_cols:
        if not checks.is_number(changes[column]):
            rule = f"must be numeric (NaN = no change) (got dtype {changes[column].dtype})"
            violations.append(Violation("changes", column, rule, len(changes)))
    raise_violations(violations, where)

    follow_up = subjects.set_index(id_col)[time_col].astype(float)
    moves = changes[[id_col, *value_cols]].copy()
    moves["_t"] = change_time
    moves["_order"] = np.arange(len(moves))
    moves = moves[moves["_t"] < moves[id_col].map(follow_up).to_numpy()]
    # the latest change at or before the origin sets the value at the origin
    moves = moves.sort_values([id_col, "_t", "_order"], kind="stable")
    moves["_t"] = moves["_t"].clip(lower=0.0)
    # carry each column forward along a subject's changes, then keep one row per time
    filled = moves.groupby(id_col, sort=False)[value_cols].ffill()
    moves[value_cols] = filled
    moves = moves.drop_duplicates([id_col, "_t"], keep="last")

    ids = subjects[id_col].to_numpy()
    cuts = pd.concat(
        [
            pd.DataFrame({id_col: ids, "_t": 0.0}),
            moves.loc[moves["_t"] > 0, [id_col, "_t"]],
        ],
        ignore_index=True,
    ).drop_duplicates()
    cuts = cuts.sort_values([id_col, "_t"], kind="stable").reset_index(drop=True)
    stop = cuts.groupby(id_col, sort=False)["_t"].shift(-1)
    stop = stop.fillna(cuts[id_col].map(follow_up)).to_numpy(dtype=float)
    long = pd.DataFrame({id_col: cuts[id_col].to_numpy(), start_col: cuts["_t"].to_numpy(), stop_col: stop})
    last = long[id_col].ne(long[id_col].shift(-1)).to_numpy()
    events = long[id_col].map(subjects.set_index(id_col)[event_col].astype(int)).to_numpy()
    long[event_col] = np.where(last, events, 0).astype(int)
    values = moves[[id_col, "_t", *value_cols]].rename(columns={"_t": start_col})
    long = long.merge(values, on=[id_col, start_col], how="left")
    # an interval without its own change takes the subject's previous values
    long[value_cols] = long.groupby(id_col, sort=False)[value_cols].ffill()
    for column in value_cols:
        long[column] = long[column].astype(float).fillna(initial.get(column, np.nan))
    fixed = subjects.drop(columns=[time_col, event_col])
    long = long.merge(fixed, on=id_col, how="left")
    return long.sort_values([id_col, start_col], kind="stable").reset_index(drop=True)
