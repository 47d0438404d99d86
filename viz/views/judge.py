"""Judge report page: position bias, order flips, length bias, parse failures, tokens and cost."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from arena import browse as vd
from viz import charts, common


def pct(x: float | None) -> str:
    """A share as a percentage, ``n/a`` when unknown."""
    return "n/a" if x is None else f"{100 * x:.1f}%"


st.title("Judge report")
data = common.load()
if data.table.empty and data.judgments.empty:
    common.no_battles(data)
report, how = common.judge()
st.caption(f"Source: {how}.")

c = st.columns(4)
c[0].metric("judge calls", f"{(report.calls or 0):,}")
c[1].metric("parse failures", f"{(report.parse_failures or 0):,}")
c[2].metric("tokens in / out", f"{(report.prompt_tokens or 0):,} / {(report.completion_tokens or 0):,}"
            if "prompt_tokens" in report.model_fields_set else "n/a")
cost = report.cost_usd if "cost_usd" in report.model_fields_set else None
c[3].metric("cost", "n/a" if cost is None else f"${cost:,.4f}")

if report.mode == "pairwise":
    c = st.columns(4)
    c[0].metric("first position wins", pct(report.first_position_win_rate),
                help="Share of decisive verdicts won by the answer shown first; 50% = no position bias.")
    c[1].metric("order flips", f"{(report.order_flips or 0)}/{(report.pairs_both_orders or 0)}",
                help="Pairs judged in both orders whose winner changed with the order.")
    c[2].metric("longer answer wins", pct(report.longer_answer_win_rate),
                help="Share of decisive verdicts (answers of different length) won by the longer answer.")
    c[3].metric("ties", pct(report.tie_rate))
    rates = pd.DataFrame({
        "measure": ["first position wins", "longer answer wins", "flip rate", "tie rate"],
        "share": [report.first_position_win_rate, report.longer_answer_win_rate,
                  report.flip_rate, report.tie_rate],
    }).dropna()
    st.altair_chart(charts.measure_bars(rates, "measure", "share", "Bias measures (dashed: 50%)", ".0%", 0.5),
                    width="stretch")
    verdicts = pd.DataFrame({"verdict": list(report.verdicts or {}),
                             "count": list((report.verdicts or {}).values())})
    if not verdicts.empty:
        st.altair_chart(charts.measure_bars(verdicts, "verdict", "count", "Verdicts", charts.COUNT_FORMAT), width="stretch")
    pos = vd.position_bias_by_model(data.table)
    if not pos.empty:
        st.markdown("**Win rate by position, per model** (decisive verdicts; dashed: 50%)")
        st.altair_chart(charts.model_bars(pos, "win_rate", "decisive win rate", ".0%", group="position", rule_at=0.5),
                        width="stretch")
if report.mode == "single":
    dist = report.score_distribution or {}
    st.metric("mean score", report.mean_score)
    st.altair_chart(alt.Chart(pd.DataFrame({"score": list(dist), "count": list(dist.values())})).mark_bar()
                    .encode(x="score:N", y=alt.Y("count:Q", axis=charts.value_axis(charts.COUNT_FORMAT)))
                    .properties(title="Score distribution", height=220, usermeta=charts.SVG), width="stretch")

if report.failure_kinds:
    st.subheader("Parse failures")
    kinds = report.failure_kinds
    st.dataframe(pd.DataFrame({"kind": list(kinds), "count": list(kinds.values())}), hide_index=True)
with st.expander("All fields"):
    st.json(report.model_dump(mode="json"))
