"""Altair charts that read at any size: 3 to 60 models, every model labelled, long names shortened.

Sizes grow with the number of rows (``ROW_PX`` per model, as Vega-Lite steps: Streamlit squeezes a chart
of fixed pixel height, which is how the heat map collapsed into one line); model names longer than ``NAME_CHARS`` are
shortened with an ellipsis in the middle on the axis and kept whole in the tooltip. Charts are drawn as SVG (Streamlit
switches big charts to canvas otherwise), so their labels are text in the page and the browser test can
read them.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

NAME_CHARS = 28
"""Longest model name shown whole on an axis; longer ones keep their first and last characters."""
ROW_PX = 24
"""Height of one model's row in bar and interval charts."""
SVG = {"embedOptions": {"renderer": "svg"}}
LABEL_FONT = 12
VALUE_COLOR = "#31333F"
"""Value labels written beside bars and points: Streamlit's dark text colour, readable next to light bars."""
COUNT_FORMAT = ",d"
"""The format of a count: callers pass it, and the axis then puts ticks on whole numbers only."""


def value_axis(fmt: str, title: str | None = None) -> alt.Axis:
    """A quantitative axis in ``fmt``; a count (a ``d`` format) gets ticks one apart at least.

    Without ``tickMinStep`` Vega puts ticks at 0.5, 1.5, ... on a short count axis and ``d`` prints them as
    0 1 1 2 2 ...
    """
    if fmt.endswith("d"):
        return alt.Axis(format=fmt, tickMinStep=1, title=title)
    return alt.Axis(format=fmt, title=title)


def value_legend(fmt: str, **kw: object) -> alt.Legend:
    """A colour legend in ``fmt``; for a count (a ``d`` format) the gradient's labels are whole numbers."""
    if fmt.endswith("d"):
        return alt.Legend(format=fmt, tickMinStep=1, **kw)
    return alt.Legend(format=fmt, **kw)


def short(name: str, limit: int = NAME_CHARS) -> str:
    """``name`` shortened to ``limit`` characters with an ellipsis in the middle (unchanged when it fits).

    The middle goes, not the end: model names that differ only in a version suffix stay apart.
    """
    name = str(name)
    if len(name) <= limit:
        return name
    tail = (limit - 1) // 2
    return name[: limit - 1 - tail] + "…" + name[len(name) - tail:]


def short_names(names: Sequence[str], limit: int = NAME_CHARS) -> dict[str, str]:
    """Each name -> its axis label, distinct: shortened names that collide get a ``~2``, ``~3`` suffix."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        label, i = short(n, limit), 1
        while label in used:
            i += 1
            label = short(n, limit - len(f"~{i}")) + f"~{i}"
        out[n] = label
        used.add(label)
    return out


def interval_chart(rows: pd.DataFrame, confidence: float = 0.95) -> alt.LayerChart:
    """Ratings with their intervals, best first, and each model's rank bounds written beside it.

    ``rows``: leaderboard rows with ``model, rating, ci_low, ci_high, rank`` and optionally ``rank_high``.
    """
    frame = rows.sort_values("rating", ascending=False, kind="stable").reset_index(drop=True)
    labels = short_names(list(frame["model"]))
    frame = frame.assign(label=frame["model"].map(labels))
    high = frame["rank_high"] if "rank_high" in frame.columns else frame["rank"]
    frame["ranks"] = [f"#{int(lo)}" if int(lo) == int(hi) else f"#{int(lo)}-{int(hi)}"
                      for lo, hi in zip(frame["rank"], high, strict=True)]
    order = list(frame["label"])
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=0, labelFontSize=LABEL_FONT, labelOverlap=False))
    tip = ["model:N", alt.Tooltip("rating:Q", format=".1f"), alt.Tooltip("ci_low:Q", format=".1f"),
           alt.Tooltip("ci_high:Q", format=".1f"), alt.Tooltip("ranks:N", title="rank bounds")]
    base = alt.Chart(frame).encode(y=y)
    x = alt.X("ci_low:Q", title=f"rating ({100 * confidence:g}% interval)", scale=alt.Scale(zero=False))
    rule = base.mark_rule(strokeWidth=2).encode(x=x, x2="ci_high:Q", tooltip=tip)
    point = base.mark_point(filled=True, size=70).encode(x="rating:Q", tooltip=tip)
    ranks = base.mark_text(align="left", dx=6, fontSize=11, color=VALUE_COLOR).encode(x="ci_high:Q", text="ranks:N", tooltip=tip)
    # A step height (px per row), not a number: Streamlit squeezes a fixed-height chart to its own height.
    return (rule + point + ranks).properties(height=alt.Step(ROW_PX), usermeta=SVG)


def heatmap(long: pd.DataFrame, models: Sequence[str], title: str, fmt: str, scheme: str,
            domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """A model x opponent heat map; the value is written in each cell while the cells are big enough.

    Cells shrink from 44 to 12 px as models are added (at most about 720 px across, so the map stays on the
    page); below 30 px the values
    are in the tooltip only, and every model keeps its label on both axes.
    """
    labels = short_names(models)
    part = long[long["model"].isin(models) & long["opponent"].isin(models)].copy()
    part["row"] = part["model"].map(labels)
    part["col"] = part["opponent"].map(labels)
    order = [labels[m] for m in models]
    cell = int(max(12, min(44, 720 // max(1, len(models)))))  # 60 models: 12 px cells, 720 px across
    # labelOverlap off: Vega would hide every other label; the font is sized so each fits its cell
    font = LABEL_FONT if cell >= 18 else (10 if cell >= 14 else 9)
    axis = {"labelLimit": 0, "labelFontSize": font, "labelOverlap": False, "labelFlush": False}
    enc = {"x": alt.X("col:N", sort=order, title="opponent", axis=alt.Axis(labelAngle=-90, **axis)),
           "y": alt.Y("row:N", sort=order, title="model", axis=alt.Axis(**axis))}
    scale = alt.Scale(scheme=scheme, domain=list(domain)) if domain else alt.Scale(scheme=scheme)
    rect = alt.Chart(part).mark_rect().encode(
        **enc, color=alt.Color("value:Q", scale=scale, title=None, legend=value_legend(fmt)),
        tooltip=[alt.Tooltip("model:N"), alt.Tooltip("opponent:N"), alt.Tooltip("value:Q", format=fmt)],
    )
    layers: list[alt.Chart] = [rect]
    if cell >= 30:
        layers.append(alt.Chart(part.dropna(subset=["value"])).mark_text(fontSize=11 if cell < 40 else 12).encode(
            **enc, text=alt.Text("value:Q", format=fmt)))
    return alt.layer(*layers).properties(title=title, width=alt.Step(cell), height=alt.Step(cell), usermeta=SVG)


def model_bars(frame: pd.DataFrame, value: str, title: str, fmt: str = ".0%", group: str | None = None,
               rule_at: float | None = None) -> alt.LayerChart:
    """Horizontal bars, one row per model (``group``: side-by-side bars within a row), value written at the end.

    ``fmt``: the value's d3 format; a count's (:data:`COUNT_FORMAT`) axis ticks only whole numbers.
    """
    models = list(dict.fromkeys(frame["model"]))
    labels = short_names(models)
    f = frame.assign(label=frame["model"].map(labels))
    groups = f[group].nunique() if group else 1
    y = alt.Y("label:N", sort=[labels[m] for m in models], title=None,
              axis=alt.Axis(labelLimit=0, labelFontSize=LABEL_FONT, labelOverlap=False))
    enc: dict[str, object] = {"y": y}
    if group:
        enc["yOffset"] = alt.YOffset(f"{group}:N")
    tip = [alt.Tooltip("model:N"), *([alt.Tooltip(f"{group}:N")] if group else []),
           alt.Tooltip(f"{value}:Q", format=fmt)]
    base = alt.Chart(f).encode(**enc)  # type: ignore[arg-type]
    colour = {"color": alt.Color(f"{group}:N", legend=alt.Legend(orient="top"))} if group else {}
    bars = base.mark_bar().encode(x=alt.X(f"{value}:Q", axis=value_axis(fmt, title)), tooltip=tip, **colour)
    # the value labels are not coloured by group: a light bar's colour is unreadable as text
    text = base.mark_text(align="left", dx=3, fontSize=10, color=VALUE_COLOR).encode(
        x=f"{value}:Q", text=alt.Text(f"{value}:Q", format=fmt))
    layers: list[alt.Chart] = [bars, text]
    if rule_at is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [rule_at]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q"))
    per_model = ROW_PX if groups <= 1 else ROW_PX * 3 // 2  # two bars of a row share 36 px
    return alt.layer(*layers).properties(height=alt.Step(per_model), usermeta=SVG)


def measure_bars(frame: pd.DataFrame, label: str, value: str, title: str, fmt: str,
                 rule_at: float | None = None) -> alt.LayerChart:
    """Horizontal bars of a few named measures (not models), value written at the end of each bar.

    ``fmt``: the value's d3 format; a count's (:data:`COUNT_FORMAT`) axis ticks only whole numbers.
    """
    y = alt.Y(f"{label}:N", title=None, sort=list(frame[label]), axis=alt.Axis(labelLimit=0, labelFontSize=LABEL_FONT))
    base = alt.Chart(frame).encode(y=y)
    bars = base.mark_bar().encode(x=alt.X(f"{value}:Q", axis=value_axis(fmt)),
                                  tooltip=[f"{label}:N", alt.Tooltip(f"{value}:Q", format=fmt)])
    text = base.mark_text(align="left", dx=3, fontSize=11, color=VALUE_COLOR).encode(x=f"{value}:Q", text=alt.Text(f"{value}:Q", format=fmt))
    layers: list[alt.Chart] = [bars, text]
    if rule_at is not None:
        layers.append(alt.Chart(pd.DataFrame({"x": [rule_at]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q"))
    return alt.layer(*layers).properties(title=title, height=alt.Step(30), usermeta=SVG)
