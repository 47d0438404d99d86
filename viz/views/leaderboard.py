"""Leaderboard page: ratings with intervals, rank bounds, W/L/T, win rate or score, per category, run facts;
for a jury run, a switch between each juror's leaderboard, the majority vote and all battles pooled; with style
control, the style-controlled leaderboard and its coefficients beside the unadjusted one, as ``arena rate`` prints."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from arena import browse as vd
from arena.browse import leaderboard as lb
from arena.rating.report import UNADJUSTED_TITLE
from arena.text import md_escape
from viz import charts, common

ALL = "(all categories)"


@st.cache_data(show_spinner="Rating ...", max_entries=32)
def jury_rows(_data: vd.RunData, source: str, signature: tuple[tuple[str, int, int], ...], choice: str,
              category: str | None) -> tuple[pd.DataFrame, list[str], str]:
    """Cached :func:`arena.browse.leaderboard.jury_leaderboard_rows` (keyed on the source's files)."""
    return lb.jury_leaderboard_rows(_data, choice, category)


@st.cache_data(show_spinner="Rating ...", max_entries=32)
def styled_rows(_data: vd.RunData, source: str, signature: tuple[tuple[str, int, int], ...], choice: str | None,
                category: str | None) -> tuple[pd.DataFrame, list[str], str, lb.StyleBoard | None]:
    """Cached :func:`arena.browse.leaderboard.leaderboard_with_style` (keyed on the source's files)."""
    return lb.leaderboard_with_style(_data, category, choice=choice)


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
jury, jury_default = lb.jury_choices(data), lb.jury_default(data)
if jury:
    common.init_state("jury", jury_default)
    if st.session_state["jury"] not in jury:  # a stale or edited link
        st.session_state["jury"] = jury_default
    st.radio("Jury leaderboard", jury, key="jury", format_func=lb.jury_label, horizontal=True,
             disabled=who != "judge" and bool(votes),
             help="A jury's battles rated with the run's settings: one juror's alone, the majority verdict of "
                  f"each game and order, or every juror's battles pooled. The run chose "
                  f"'{lb.jury_label(str(jury_default))}' (rating.jury), which leaderboard.json holds.")
common.sync_params(["cat", "from", "jury"], {"cat": ALL, "from": "judge", "jury": jury_default})

cat = None if category == ALL else category
style: lb.StyleBoard | None = None
if who != "judge" and votes:
    rows, warnings, how = common.leaderboard_for(who, cat)
elif lb.style_controlled(data):
    rows, warnings, how, style = styled_rows(data, data.source, vd.source_signature(data.source),
                                             st.session_state["jury"] if jury else None, cat)
elif jury:
    rows, warnings, how = jury_rows(data, data.source, vd.source_signature(data.source), st.session_state["jury"], cat)
else:
    rows, warnings, how = common.leaderboard(cat)
if rows.empty:
    st.info("No battles in this selection.")
    st.stop()
if style is not None:  # both leaderboards, each named as arena rate --style-control names them
    st.subheader(UNADJUSTED_TITLE)
confidence = lb.rating_settings(data).confidence  # the level the intervals were computed at, as arena rate names it
st.caption(f"Ratings: {how}.")
st.dataframe(vd.leaderboard_view(rows, confidence), hide_index=True, width="stretch")
for w in warnings:
    st.warning(md_escape(w))

st.altair_chart(charts.interval_chart(rows, confidence), width="stretch")

if style is not None:
    st.subheader(style.title)
    st.caption(f"Ratings: {style.how}.")
    st.dataframe(vd.leaderboard_view(style.rows, confidence), hide_index=True, width="stretch")
    st.altair_chart(charts.interval_chart(style.rows, confidence), width="stretch")
    st.markdown("**Style control coefficients** (log-odds per sd of the normalised difference; "
                "positive: the judge favours the answer with more of it)")
    st.dataframe(lb.style_coefficients_view(style), hide_index=True)

st.subheader("Run facts")
facts = vd.run_facts(data)
st.dataframe(pd.DataFrame({"fact": list(facts), "value": list(facts.values())}), hide_index=True, width="stretch")
