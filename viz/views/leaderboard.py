"""Leaderboard page: ratings with intervals, rank bounds, W/L/T, win rate or score, per category, run facts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from arena import browse as vd
from viz import common

ALL = "(all categories)"

st.title("Leaderboard")
data = common.load()
cats = vd.categories(data)
if data.battles.empty and not cats:
    common.no_battles(data)

common.init_state("cat", ALL)
common.clamp_choice("cat", [ALL, *cats])
category = st.selectbox("Category", [ALL, *cats], key="cat", help="Each category is rated from its own battles only.")
common.sync_params(["cat"], {"cat": ALL})

rows, warnings, how = common.leaderboard(None if category == ALL else category)
if rows.empty:
    st.info("No battles in this selection.")
    st.stop()
st.caption(f"Ratings: {how}.")
st.dataframe(vd.leaderboard_view(rows), hide_index=True, width="stretch")
for w in warnings:
    st.warning(w)

chart_rows = vd.ratings_chart_frame(rows)
order = list(chart_rows["model"])
base = alt.Chart(chart_rows).encode(y=alt.Y("model:N", sort=order, title=None))
chart = base.mark_rule(strokeWidth=2).encode(
    x=alt.X("ci_low:Q", title="rating (95% interval)", scale=alt.Scale(zero=False)), x2="ci_high:Q"
) + base.mark_point(filled=True, size=80).encode(
    x="rating:Q", tooltip=["model", alt.Tooltip("rating:Q", format=".1f"), alt.Tooltip("ci_low:Q", format=".1f"),
                           alt.Tooltip("ci_high:Q", format=".1f")]
)
st.altair_chart(chart.properties(height=max(120, 28 * len(chart_rows))), width="stretch")

st.subheader("Run facts")
facts = vd.run_facts(data)
st.dataframe(pd.DataFrame({"fact": list(facts), "value": list(facts.values())}), hide_index=True, width="stretch")
