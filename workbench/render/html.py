"""One self-contained HTML report: figures in, a string out, with the PNGs it is given read
and inlined (no server, no CDN). What gathers its figures is ``readouts/report.py``."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ..analysis import HEADLINE
from ..analysis.metrics import METRICS
from .console import fmt_delta, fmt_floor, fmt_side_floors

_STYLE = """body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:1em 0}td,th{padding:3px 9px;border-bottom:1px
solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}.l{text-align:left}
.ok{color:#176b2c}.no{color:#a3261b}summary{cursor:pointer;margin:.4em 0}small{color:#666}
img{max-width:520px}img.wide{max-width:100%}"""


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _est(e) -> str:
    if e is None or e.value is None or e.value != e.value:
        return "—"
    ci = "" if e.ci_low is None or e.ci_low != e.ci_low else \
        f" <small>[{e.ci_low:.3f}, {e.ci_high:.3f}]</small>"
    return f"{e.value:.3f}{ci}"


def _img(path: Path, alt: str = "reliability diagrams", wide: bool = False) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{alt}"{" class=wide" if wide else ""} src="data:image/png;base64,{data}">'


# The report's variants table: the headline metrics and the two that say more about ranking.
SHOWN = (*HEADLINE, "brier", "auroc")


def render(title: str, rows: list[dict], png: Path | None, questions: dict[str, list[dict]],
           diffs: list[dict], notes: list[str], classes: dict[str, dict[str, str]] | None = None,
           ablation: Path | None = None, methods: dict[str, str] | None = None,
           intervals: Path | None = None) -> str:
    """``rows``: compare's variants (``variant`` labels, ``metrics``, ids); ``questions``: per
    score id, the per-question table; ``diffs``: {"label", "diff"} (``analysis.diff.Diff``);
    ``classes``: per score id and question, its classes with counts and verdicts in one line;
    ``ablation``: the M-ablation figure, if any variant has one; ``methods``: per score id,
    its methods paragraph (``render.methods``); ``intervals``: smECE per variant with its
    interval and floor (``diagram.draw_intervals``)."""
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{_e(title)}</h1>"]
    out += [f"<p>{_e(n)}</p>" for n in notes]
    out += _variants(rows)
    if intervals:
        out.append(_img(intervals, "smECE by variant"))
    if png:
        out.append("<h2>Reliability</h2>" + _img(png))
    if ablation:
        out.append("<h2>How many samples: the M ablation</h2><p>Each metric when every question "
                   "keeps only m of its M samples (mean ± sd over seeded subsamples; "
                   "<code>workbench ablate</code>). At m = 1 every answered question's "
                   "confidence is 1 by construction.</p>" + _img(ablation, "M ablation", wide=True))
    for d in diffs:
        out += _diff(d["label"], d["diff"])
    if methods:
        out.append("<h2>Methods</h2>")
        for r in rows:
            name = " · ".join(str(v) for v in r["variant"].values())
            out.append(f"<p><b>{_e(name)}.</b> {_e(methods[r['score_id']])}</p>")
    out.append("<h2>Questions</h2>")
    for r in rows:
        out += _questions(r, questions.get(r["score_id"], []),
                          (classes or {}).get(r["score_id"], {}))
    out.append("</body></html>")
    return "\n".join(out)


def _variants(rows: list[dict]) -> list[str]:
    labels = list(rows[0]["variant"]) if rows else []
    out = ["<h2>Variants</h2><table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in labels)
           + "".join(f"<th>{_e(METRICS[m].label)}</th>" for m in SHOWN)
           + "<th>smECE floor</th><th>echo share</th><th class=l>run</th></tr>"]
    for r in rows:
        est = r["metrics"]
        out.append("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r["variant"].values())
                   + "".join(f"<td>{_est(est.get(m))}</td>" for m in SHOWN)
                   + f"<td>{fmt_floor(est.get('smece'))}</td>"
                   f"<td>{_share(r.get('echo_share'))}</td>"
                   f"<td class=l><code>{_e(r['run_id'])}</code></td></tr>")
    return [*out, "</table>"]


def _diff(label: str, diff) -> list[str]:
    """One paired comparison: each metric's B − A, then the questions that moved most."""
    out = [f"<h2>{_e(label)}</h2><table><tr><th>metric</th><th>A</th><th>B</th>"
           "<th>B − A [95% paired]</th><th>floor A</th><th>floor B</th></tr>"]
    for m in diff.metrics:
        fa, fb = fmt_side_floors(diff, m.metric)
        out.append(f"<tr><td>{_e(METRICS[m.metric].label)}</td><td>{m.a:.3f}</td>"
                   f"<td>{m.b:.3f}</td><td>{fmt_delta(m)}</td><td>{fa}</td><td>{fb}</td></tr>")
    out.append("</table><table><tr><th>question</th><th class=l>A answer (conf)</th>"
               "<th class=l>B answer (conf)</th></tr>")
    for x, y in diff.largest:
        out.append(f"<tr><td class=l>{_e(x.question)}</td>"
                   f"<td class=l>{_mark(x.correct)} {_e(x.answer)} ({x.confidence:.2f})</td>"
                   f"<td class=l>{_mark(y.correct)} {_e(y.answer)} ({y.confidence:.2f})</td>"
                   "</tr>")
    return [*out, "</table>"]


def _questions(row: dict, qs: list[dict], classes: dict[str, str]) -> list[str]:
    """One variant's questions, wrong and confident first, folded."""
    name = " · ".join(str(v) for v in row["variant"].values())
    out = [f"<details><summary>{_e(name)}: {len(qs)} questions, wrong and confident "
           "first</summary><table><tr><th class=l>question</th><th class=l>gold</th>"
           "<th class=l>answer</th><th>confidence</th><th class=l>classes</th></tr>"]
    for q in sorted(qs, key=lambda q: (q["correct"] is not False, -q["confidence"])):
        gold = " | ".join(q["answers"] or [])
        out.append(f"<tr><td class=l>{_e(q['question'])}</td><td class=l>{_e(gold)}</td>"
                   f"<td class=l>{_mark(q['correct'])} {_e(q['answer'])}</td>"
                   f"<td>{q['confidence']:.2f}</td><td class=l>"
                   f"{_e(classes.get(q['question_id'], q['n_classes']))}</td></tr>")
    return [*out, "</table></details>"]


def _share(value) -> str:
    """A shortcut share (answers repeating the question), or a dash for older scores."""
    return "—" if value is None else f"{value:.0%}"


def _mark(correct) -> str:
    return {True: "<span class=ok>✓</span>", False: "<span class=no>✗</span>"}.get(
        correct, "?")
