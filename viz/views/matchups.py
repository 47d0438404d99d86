"""Matchups page: heat maps of observed win rate, predicted win rate and battle counts; any pair in detail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from viz import charts, common

st.title("Matchups")
data = common.load()
if data.battles.empty:
    common.no_battles(data)

frames = common.matchups()
models = list(dict.fromkeys(frames["battles"]["model"]))
common.init_state("show", models, list)
common.clamp_choice("show", models)
shown = st.multiselect("Models", models, key="show", help="Rows and columns of the heat maps, in leaderboard order.")
common.sync_params(["show"], {"show": models})
shown = shown or models


tabs = st.tabs(["Observed win rate", "Predicted win rate", "Battle counts"])
specs = [("observed win rate", ".0%", "redblue", (0.0, 1.0)), ("predicted win rate", ".0%", "redblue", (0.0, 1.0)),
         ("battles", charts.COUNT_FORMAT, "greens", None)]
for tab, (name, fmt, scheme, domain) in zip(tabs, specs, strict=True):
    with tab:
        st.altair_chart(charts.heatmap(frames[name], shown, f"{name} (row model vs column opponent)", fmt, scheme,
                                       domain), width="content")
st.caption("Observed: share of battles the row model won against the column opponent, a tie counting half. "
           "Predicted: Bradley-Terry probability from the leaderboard ratings.")

st.subheader("One pair")
left, right = st.columns(2)
common.init_state("pa", models[0])
common.init_state("pb", models[1] if len(models) > 1 else models[0])
common.clamp_choice("pa", models)
common.clamp_choice("pb", models)
a = left.selectbox("Model", models, key="pa")
b = right.selectbox("Opponent", models, key="pb")
common.sync_params(["pa", "pb"], {})
if a == b:
    st.info("Pick two different models.")
else:
    cells = {name: f[(f["model"] == a) & (f["opponent"] == b)]["value"].iloc[0] for name, f in frames.items()}
    c1, c2, c3 = st.columns(3)
    c1.metric("battles", f"{cells['battles']:,.0f}")
    c2.metric(f"observed: {a} wins", "n/a" if pd.isna(cells["observed win rate"]) else f"{cells['observed win rate']:.1%}")
    c3.metric(f"predicted: {a} wins", "n/a" if pd.isna(cells["predicted win rate"]) else f"{cells['predicted win rate']:.1%}")
