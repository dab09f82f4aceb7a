"""Ids as people type them: a full id or an unambiguous prefix of one (as git takes commit ids),
and a run resolved to one of its gradings by the judge rule: a judge is always explicit.

The rule: a grading (or a score or ablation, through its grading) is itself; a run means its
newest finished grading by the judge named, and when none is named, the newest grading of its
only judge. A run graded by several judges and no judge named is refused, so two judges are
never mixed unseen.
"""

from __future__ import annotations

import difflib
import re

from ..errors import NotFound, StageError, UsageError
from ..grading.judges import RULES
from ..store import queries
from ..store.tables import STAGES


def expand(con, text: str, want: tuple[str, ...]) -> tuple[str, str]:
    """(table, full id) of the item ``text`` names; ``want``: the tables that make sense here."""
    found = queries.ids_like(con, text)
    exact = [f for f in found if f[1] == text]
    found = exact or found
    names = " or ".join(STAGES[t].what for t in want)
    if not found:
        raise NotFound(f"no {names} id starts with {text!r} in the store")
    if len(found) > 1:
        listed = ", ".join(i for _, i in found[:6]) + (", ..." if len(found) > 6 else "")
        raise UsageError("id", f"{text!r} is ambiguous: {listed}; give more of it")
    table, full = found[0]
    if table not in want:
        raise UsageError("id", f"{full} is a {STAGES[table].what} id; this takes a {names} id")
    return table, full


def grading_for(con, text: str, judge: str | None = None) -> dict:
    """The finished grading a run, grading, score or ablation id (or prefix) means, by the
    judge rule."""
    table, full = expand(con, text, ("runs", "gradings", "scores", "ablations"))
    if table in ("scores", "ablations"):
        full = queries.one(con, STAGES[table].what, full)["grading_id"]
    if table != "runs":
        grading = queries.one(con, "grading", full)
        if judge is not None and grading["judge"] != judge:
            raise UsageError("judge", f"grading {full} was made by judge {grading['judge']!r}, "
                                      f"not {judge!r}")
        if grading["status"] != "FINISHED":
            raise StageError(f"grading {full} is {grading['status']}")
        return grading
    gradings = queries.finished_gradings(con, full)
    judges = sorted({g["judge"] for g in gradings})
    if judge is not None:
        gradings = [g for g in gradings if g["judge"] == judge]
    if not gradings:
        if judge is not None:
            _known_judge(con, judge, judges)
        by = f" by judge {judge!r}" if judge else ""
        has = f" (it has: {', '.join(judges)})" if judges else ""
        raise StageError(f"run {full} has no finished grading{by}{has}; "
                         f"`workbench grade {full} --judge {judge or 'exact'}` makes one")
    if judge is None and len(judges) > 1:
        raise UsageError("judge", f"run {full} has gradings by {len(judges)} judges "
                                  f"({', '.join(judges)}); name one")
    return gradings[0]


def _known_judge(con, judge: str, graded_by: list[str]) -> None:
    """Refuse a judge name that names no judge (a rule, one recorded here, or one that graded
    this run), with the close names: a typo is not an invitation to grade with it."""
    names = sorted({*RULES, *(j["name"] for j in queries.list_judges(con)), *graded_by})
    if judge in names:
        return
    close = difflib.get_close_matches(judge, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, close))}?" if close else \
        f"judges: {', '.join(names)}"
    raise UsageError("judge", f"no judge is named {judge!r}; {hint}")


# A bound value that looks like the start of a workbench id (run_3f, grd_a0): resolved to the
# id it names, as every id argument is, or refused; it used to match nothing, silently.
_ID_PREFIX = re.compile(r"^(?:%s)_[0-9a-f]*$" % "|".join(t.prefix for t in STAGES.values()))


def looks_like_id(value) -> bool:
    return isinstance(value, str) and bool(_ID_PREFIX.match(value))


def full_ids(con, params: list) -> list:
    """SQL parameters with each id prefix replaced by the id it names (refused naming
    --param when it names none or several)."""
    out = []
    for p in params:
        if looks_like_id(p):
            try:
                p = expand(con, p, tuple(STAGES))[1]
            except (NotFound, UsageError) as exc:
                raise UsageError("param", f"{p!r}: {getattr(exc, 'message', exc)}") from None
        out.append(p)
    return out
