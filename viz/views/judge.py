"""Judge report page: position bias, order flips, length bias, parse failures, tokens and cost; for a jury,
each judge's biases, their agreement (pairwise Cohen's kappa, Fleiss' kappa) and self-preference."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from arena import browse as vd
from arena.browse import judge as bj
from arena.text import md_escape
from viz import charts, common


def pct(x: float | None) -> str:
    """A share as a percentage, ``n/a`` when unknown."""
    return "n/a" if x is None or pd.isna(x) else f"{100 * x:.1f}%"


def kappa(x: float | None) -> str:
    """A kappa to 3 decimals, ``n/a`` when undefined."""
    return "n/a" if x is None or pd.isna(x) else f"{x:.3f}"


def jury_section(jury: dict[str, Any]) -> None:
    """The report's ``jury`` section: per-judge biases, agreement, self-preference, each with what it means."""
    st.subheader("Jury")
    how = {"per-judge": "the lead judge's battles", "majority": "the majority verdict of each game and order",
           "all": "every judge's battles pooled"}.get(str(jury.get("how")), str(jury.get("how")))
    st.markdown(f"{len(jury['judges'])} judges reviewed the same games: {md_escape(', '.join(jury['judges']))}. "
                f"The run's leaderboard rates {how} (`rating.jury`); switch on the Leaderboard page.")
    bias = bj.jury_bias_table(jury)
    for col in ("first position wins", "longer answer wins", "order flips", "ties"):
        bias[col] = bias[col].map(pct)
    st.markdown("**Each judge's biases.** First position wins: the share of decisive verdicts won by the answer "
                "shown first (50% = no position bias); longer answer wins: the same for the longer answer "
                "(length bias); order flips: pairs judged in both orders whose winner changed with the order.")
    st.dataframe(bias, hide_index=True, width="stretch")
    st.markdown("**Agreement between judges (Cohen's kappa).** Agreement on the same game and order beyond what "
                "chance gives from each judge's verdict shares: 1 = always agree, 0 = no better than chance, "
                "below 0 = systematically opposite.")
    matrix = bj.jury_kappa_matrix(jury)
    st.dataframe(matrix.map(kappa), width="stretch")
    pairs = bj.jury_agreement_table(jury)
    pairs["agreement"] = pairs["agreement"].map(pct)
    pairs["Cohen's kappa"] = pairs["Cohen's kappa"].map(kappa)
    st.dataframe(pairs, hide_index=True, width="stretch")
    fleiss = (jury.get("agreement") or {}).get("fleiss_kappa") or {}
    st.metric("Fleiss' kappa", kappa(fleiss.get("value")),
              help="Agreement of all judges together beyond chance (same scale as Cohen's kappa).")
    st.markdown(f"**Fleiss' kappa** is the agreement of all {len(jury['judges'])} judges at once beyond chance, "
                f"over the {fleiss.get('games', 0):,} games every judge judged.")
    st.markdown("**Self-preference.** A judge's win rate for candidates of its own model or family, minus the "
                "mean win rate the other judges give them (ties count half); positive: the judge favours its own.")
    pref = bj.jury_self_preference_table(jury)
    if pref.empty:
        st.info("No judge has its own model or family among the candidates: there is no self-preference to measure.")
    else:
        for col in ("win rate (this judge)", "win rate (other judges)"):
            pref[col] = pref[col].map(pct)
        pref["difference"] = pref["difference"].map(lambda d: "n/a" if d is None else f"{100 * d:+.1f} points")
        st.dataframe(pref, hide_index=True, width="stretch")


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

jury = bj.jury_section(report)
if jury is not None:
    jury_section(jury)

if report.failure_kinds:
    st.subheader("Parse failures")
    kinds = report.failure_kinds
    st.dataframe(pd.DataFrame({"kind": list(kinds), "count": list(kinds.values())}), hide_index=True)
with st.expander("All fields"):
    st.json(report.model_dump(mode="json"))
