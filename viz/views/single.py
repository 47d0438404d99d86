"""Single-mode page: scores per model and category, and the judge's reasons for each answer."""

from __future__ import annotations

import altair as alt
import streamlit as st

from arena import browse as vd
from arena.text import md_escape
from viz import common

st.title("Single mode")
data = common.load()
scores = vd.single_scores(data)
if scores.empty:
    st.info("No single-answer scores in this source: single mode grades each answer alone "
            "(`judge.mode: single`). This run is " + f"`{data.mode}`.")
    st.stop()

st.subheader("Mean score by category")
st.dataframe(vd.single_scores_table(data), width="stretch")
st.altair_chart(
    alt.Chart(scores).mark_bar().encode(
        x=alt.X("score:Q", title="mean score"), y=alt.Y("category:N", title=None), yOffset="model:N", color="model:N",
        tooltip=["model", "category", alt.Tooltip("score:Q", format=".2f"), "n"],
    ).properties(height=max(200, 22 * len(scores))),
    width="stretch",
)

st.subheader("The judge's reasons")
models = sorted(scores["model"].unique())
common.init_state("sm", models[0])
common.clamp_choice("sm", models)
model = st.selectbox("Model", models, key="sm")
reasons = vd.single_reasons(data, model)
qids = list(dict.fromkeys(reasons["question_id"].astype(str)))
common.init_state("sq", qids[0] if qids else "")
common.clamp_choice("sq", qids)
qid = st.selectbox("Question", qids, key="sq")
common.sync_params(["sm", "sq"], {})
raw = st.toggle("Show texts as plain text (no Markdown)", key="raw_single")
q = data.questions.loc[qid] if qid in data.questions.index else None
for r in reasons[reasons["question_id"].astype(str) == qid].itertuples():
    with st.container(border=True):
        st.markdown(f"**Turn {r.turn}** ({md_escape(r.category)}): score **{'n/a' if r.score != r.score else f'{r.score:g}'}**")
        if q is not None and isinstance(q["turns"], list) and len(q["turns"]) >= r.turn:
            st.markdown("**Question**")
            common.model_text(q["turns"][r.turn - 1], raw)
        turns = vd.answer_turns(data, r.answer_a)
        st.markdown(f"**{md_escape(model)}'s answer**")
        common.model_text(turns[r.turn - 1] if len(turns) >= r.turn else "", raw)
        if isinstance(r.error, str):
            st.error(f"no score: {r.error}")
        st.markdown("**Judge**")
        common.model_text(r.output if isinstance(r.output, str) else "", raw)
