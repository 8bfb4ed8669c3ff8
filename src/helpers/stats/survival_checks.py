"""Input checks of the survival toolkit (:mod:`helpers.stats.survival`).

Each check appends a :class:`helpers.errors.Violation` per broken rule (via
:func:`helpers.errors.check`), so that a function reports every problem of its input in one
:class:`helpers.errors.InputError`, in the package's one message format. Tables are named by the
parameter that holds them (``data``, ``long_df``) or, for array arguments, :data:`ARGUMENTS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.errors import InputError, Violation, check, missing_columns, raise_violations

#: The "table" named in the messages about array arguments (time, event, group).
ARGUMENTS = "arguments"


def as_series(values: Any, name: str, where: str) -> pd.Series:
    """``values`` as a Series (a Series is returned as it is); InputError if not one-dimensional."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.DataFrame):
        raise InputError(f"{where}: {name!r} must be one-dimensional, got a DataFrame")
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{where}: {name!r} must be one-dimensional, got shape {array.shape}")
    return pd.Series(array)


def arguments(where: str, **named: Any) -> pd.DataFrame:
    """The array arguments of a function as one table, so a message shows each bad row whole.

    The rows keep the labels of the first argument when it is a Series (the caller's row labels).
    """
    series = {name: as_series(values, name, where) for name, values in named.items()}
    lengths = {name: len(s) for name, s in series.items()}
    if len(set(lengths.values())) > 1:
        raise InputError(f"{where}: inputs differ in length: {lengths}")
    first_name, first = next(iter(series.items()))
    if len(first) == 0:
        raise InputError(f"{where}: {first_name!r} is empty")
    frame = pd.concat([s.reset_index(drop=True).rename(name) for name, s in series.items()], axis=1)
    frame.index = first.index
    return frame


def require_frame(data: Any, columns: Iterable[str], where: str, table: str) -> None:
    """``data`` is a DataFrame with every column in ``columns``; else InputError naming them."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{where}: {table!r} must be a pandas DataFrame, got {type(data).__name__}")
    found = missing_columns(data, list(dict.fromkeys(columns)), table)
    present = [str(column) for column in data.columns]
    shown = ", ".join(present[:20]) + (f", ... ({len(present) - 20} more)" if len(present) > 20 else "")
    raise_violations(found, where=f"{where}: table {table!r} lacks required columns (it has: {shown})")
    if len(data) == 0:
        raise InputError(f"{where}: table {table!r} has no rows")


def is_number(series: pd.Series) -> bool:
    """Numeric and not boolean."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def floats(series: pd.Series) -> np.ndarray:
    """A numeric Series as a float array, missing values (also pandas' NA) as NaN."""
    return series.to_numpy(dtype=float, na_value=np.nan)


def check_time(
    violations: list[Violation], frame: pd.DataFrame, column: str, table: str, show: Sequence[str] = ()
) -> bool:
    """A time column: numeric, complete, finite, >= 0. Returns whether it is numeric at all."""
    series = frame[column]
    if not is_number(series):
        violations.append(Violation(table, column, f"must be numeric (got dtype {series.dtype})", len(frame)))
        return False
    values = floats(series)
    where = {"table": table, "column": column, "show": show}
    check(violations, frame, np.isnan(values), rule="must not be missing", **where)
    check(violations, frame, np.isinf(values), rule="must be finite", **where)
    check(violations, frame, values < 0, rule="must be >= 0 (a time since the origin)", **where)
    return True


def check_event(
    violations: list[Violation], frame: pd.DataFrame, column: str, table: str, show: Sequence[str] = ()
) -> None:
    """An event column: 0 (censored) or 1 (event), or boolean; complete."""
    series = frame[column]
    where = {"table": table, "column": column, "show": show}
    if pd.api.types.is_bool_dtype(series):
        check(violations, frame, series.isna(), rule="must not be missing", **where)
        return
    if not pd.api.types.is_numeric_dtype(series):
        rule = f"must be 0/1 (or boolean) (got dtype {series.dtype})"
        violations.append(Violation(table, column, rule, len(frame)))
        return
    values = floats(series)
    missing = np.isnan(values)
    check(violations, frame, missing, rule="must not be missing", **where)
    not_binary = ~missing & ~np.isin(values, (0.0, 1.0))
    check(violations, frame, not_binary, rule="must be 0 (censored) or 1 (event)", **where)


def check_complete(
    violations: list[Violation], frame: pd.DataFrame, column: str, table: str, show: Sequence[str] = ()
) -> None:
    """A column without missing values (group labels, ids, strata)."""
    check(
        violations,
        frame,
        frame[column].isna(),
        table=table,
        column=column,
        rule="must not be missing",
        show=show,
    )


def as_list(columns: str | Sequence[str] | None) -> list[str]:
    """None, one column name or several, as a list."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def check_model_columns(
    violations: list[Violation],
    data: pd.DataFrame,
    special: list[str],
    strata_cols: list[str],
    table: str,
    where: str,
) -> list[str]:
    """Strata complete; every other column a numeric (or bool), complete covariate. Returns them."""
    for column in strata_cols:
        check_complete(violations, data, column, table)
    covariates = [column for column in data.columns if column not in special]
    if not covariates:
        raise InputError(f"{where}: no covariate columns left to fit")
    for column in covariates:
        series = data[column]
        if not (pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)):
            rule = (
                f"a covariate must be numeric (got dtype {series.dtype}); encode it as 0/1 indicator "
                "columns (e.g. pandas.get_dummies(..., drop_first=True)) first"
            )
            violations.append(Violation(table, column, rule, len(data)))
        check(
            violations,
            data,
            series.isna(),
            table=table,
            column=column,
            rule="a covariate must not be missing; drop or impute those rows explicitly before fitting",
        )
    return covariates


def model_frame(data: pd.DataFrame, covariates: list[str], event_col: str) -> pd.DataFrame:
    """The checked input of a Cox fit: bool covariates as 0/1 floats, the event as int."""
    frame = data.copy()
    for column in covariates:
        if pd.api.types.is_bool_dtype(frame[column]):
            frame[column] = frame[column].astype(float)
    frame[event_col] = frame[event_col].astype(int)
    return frame


def checked_groups(where: str, time: Any, event: Any, group: Any) -> pd.DataFrame:
    """Time, event and group as one checked table (group labels complete)."""
    args = arguments(where, time=time, event=event, group=group)
    violations: list[Violation] = []
    shown = ["time", "event", "group"]
    check_time(violations, args, "time", ARGUMENTS, show=shown)
    check_event(violations, args, "event", ARGUMENTS, show=shown)
    check_complete(violations, args, "group", ARGUMENTS, show=shown)
    raise_violations(violations, where)
    return args


def check_intervals(
    violations: list[Violation], long_df: pd.DataFrame, id_col: str, start_col: str, stop_col: str, table: str
) -> None:
    """Intervals (start, stop]: times, start < stop, and no two of a patient overlapping."""
    shown = [id_col, start_col, stop_col]
    numeric = check_time(violations, long_df, start_col, table, show=shown)
    numeric &= check_time(violations, long_df, stop_col, table, show=shown)
    if not numeric:
        return
    start, stop = floats(long_df[start_col]), floats(long_df[stop_col])
    check(
        violations,
        long_df,
        stop <= start,
        table=table,
        column=stop_col,
        rule=f"must be > {start_col} (intervals are ({start_col}, {stop_col}])",
        show=shown,
    )
    # sort by patient and start; an interval overlaps when it starts before the previous one stops
    order = (
        long_df[[id_col, start_col]].reset_index(drop=True).sort_values([id_col, start_col], kind="stable")
    )
    rows = order.index.to_numpy()
    ids = long_df[id_col].to_numpy()[rows]
    same_patient = ids[1:] == ids[:-1]
    overlaps = same_patient & (start[rows][1:] < stop[rows][:-1])
    bad = np.zeros(len(long_df), dtype=bool)
    bad[rows[1:][overlaps]] = True
    check(
        violations,
        long_df,
        bad,
        table=table,
        column=id_col,
        rule="intervals of a patient must not overlap (rows shown start before the previous one stops)",
        show=shown,
    )
