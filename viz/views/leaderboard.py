"""Leaderboard page: ratings with intervals, rank bounds, W/L/T, win rate or score, per category, run facts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from arena import browse as vd
from viz import charts, common

ALL = "(all categories)"

st.title("Leaderboard")
data = common.load()
cats = vd.categories(data)
if data.battles.empty and not cats:
    common.no_battles(data)

WHO = {"judge": "the judge", "humans": "people (human votes)", "both": "both pooled"}
common.init_state("cat", ALL)
common.clamp_choice("cat", [ALL, *cats])
common.init_state("from", "judge")
common.clamp_choice("from", list(WHO))
left, right = st.columns([2, 3])
category = left.selectbox("Category", [ALL, *cats], key="cat", help="Each category is rated from its own battles only.")
votes = common.votes() if data.kind == "run" else []
who = right.radio("Ratings from", list(WHO), key="from", format_func=WHO.__getitem__, horizontal=True,
                  disabled=not votes, help="Human votes are cast on the Vote page (human_votes.jsonl); "
                  "'both' rates the judge's battles and the votes together.")
common.sync_params(["cat", "from"], {"cat": ALL, "from": "judge"})

cat = None if category == ALL else category
rows, warnings, how = common.leaderboard(cat) if who == "judge" or not votes else common.leaderboard_for(who, cat)
if rows.empty:
    st.info("No battles in this selection.")
    st.stop()
st.caption(f"Ratings: {how}.")
st.dataframe(vd.leaderboard_view(rows), hide_index=True, width="stretch")
for w in warnings:
    st.warning(w)

st.altair_chart(charts.interval_chart(rows), width="stretch")

st.subheader("Run facts")
facts = vd.run_facts(data)
st.dataframe(pd.DataFrame({"fact": list(facts), "value": list(facts.values())}), hide_index=True, width="stretch")
