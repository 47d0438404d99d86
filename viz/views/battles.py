"""Battles page: filter the battle list, page through it, open one battle with both answers and both verdicts."""

from __future__ import annotations

import streamlit as st

from arena import browse as vd
from arena.text import md_escape
from viz import common

PAGE_SIZE = 50
FILTER_KEYS = ["m", "c", "t", "v", "flip", "tie", "err", "lmin", "lmax", "q"]
DEFAULTS = {"m": [], "c": [], "t": [], "v": [], "flip": False, "tie": False, "err": False, "lmin": None,
            "lmax": None, "q": "", "page": 1, "battle": ""}

st.title("Battles")
data = common.load()
table = data.table
if table.empty:
    common.no_battles(data)

for key, kind in (("m", list), ("c", list), ("t", list), ("v", list), ("flip", bool), ("tie", bool),
                  ("err", bool), ("lmin", int), ("lmax", int), ("q", str), ("page", int), ("battle", str)):
    common.init_state(key, DEFAULTS[key], kind)
st.session_state["t"] = [int(x) for x in st.session_state["t"] if str(x).isdigit()]


def _first_page() -> None:
    st.session_state["page"] = 1


def _open_from_list() -> None:
    st.session_state["battle"] = st.session_state.get("pick") or ""


models = data.models
cats = sorted(table["category"].unique())
turns = sorted(int(x) for x in table["turn"].unique())
verdicts = sorted(table["verdict"].unique())
for key, options in (("m", models), ("c", cats), ("t", turns), ("v", verdicts)):
    common.clamp_choice(key, options)

with st.sidebar:
    st.header("Filter battles")
    st.multiselect("Models", models, key="m", on_change=_first_page,
                   help="One model: every battle it played. Two or more: battles between two of them.")
    st.multiselect("Categories", cats, key="c", on_change=_first_page)
    st.multiselect("Turns", turns, key="t", on_change=_first_page)
    st.multiselect("Verdicts", verdicts, key="v", on_change=_first_page)
    st.checkbox("Order flips only", key="flip", on_change=_first_page,
                help="Games whose two orders got different winners.")
    st.checkbox("Ties only", key="tie", on_change=_first_page)
    st.checkbox("Parse errors only", key="err", on_change=_first_page, help="Judge replies with no verdict.")
    lo, hi = st.columns(2)
    lo.number_input("Longer answer, min chars", min_value=0, step=100, key="lmin", on_change=_first_page)
    hi.number_input("max chars", min_value=0, step=100, key="lmax", on_change=_first_page)
    st.text_input("Search text", key="q", on_change=_first_page,
                  help="Case-insensitive, in the question, the answers, the judge's reply and model names.")

flt = vd.BattleFilter(
    models=st.session_state["m"], categories=st.session_state["c"], turns=st.session_state["t"],
    verdicts=st.session_state["v"], flips_only=st.session_state["flip"], ties_only=st.session_state["tie"],
    errors_only=st.session_state["err"], min_len=st.session_state["lmin"], max_len=st.session_state["lmax"],
    search=st.session_state["q"],
)
rows = vd.filter_battles(data, flt)
pages = max(1, -(-len(rows) // PAGE_SIZE))
st.session_state["page"] = min(max(1, int(st.session_state["page"] or 1)), pages)

head, pager = st.columns([3, 1])
head.markdown(f"**{len(rows):,}** of {len(table):,} battles match.")
pager.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, key="page")
shown, _ = vd.page_of(rows, st.session_state["page"], PAGE_SIZE)
st.dataframe(vd.battle_list_view(shown), hide_index=True, width="stretch", height=min(420, 38 + 35 * len(shown)))

labels = {r.bid: f"{r.bid}: q{r.question_id} t{r.turn} {r.model_a} vs {r.model_b} ({r.verdict})"
          for r in shown.itertuples()}
if labels:
    st.selectbox("Open a battle of this page", list(labels), format_func=labels.__getitem__, index=None,
                 key="pick", on_change=_open_from_list, placeholder="choose a battle ...")
st.text_input("Battle id", key="battle", help="The first column of the list; links keep it in the URL.")
common.sync_params([*FILTER_KEYS, "page", "battle"], DEFAULTS)

bid = st.session_state["battle"].strip()
if not bid:
    st.caption("Pick a battle to see the question, both answers and the judge's reasons.")
    st.stop()
detail = vd.battle_detail(data, bid)
if detail is None:
    st.warning(f"No battle with id {bid!r} in this source.")
    st.stop()

st.divider()
row = detail["row"]
raw = st.toggle("Show texts as plain text (no Markdown)", key="raw")
st.subheader(f"Question {md_escape(row['question_id'])} ({md_escape(row['category'])}), turn {row['turn']}")
q = detail["question"]
if q is None or not any(q["turns"]):
    st.caption("The question text is not in this source.")
else:
    for i, text in enumerate(q["turns"], start=1):
        st.markdown(f"**User, turn {i}**" + (" (judged)" if i == row["turn"] else ""))
        common.model_text(text, raw)
    if q.get("reference"):
        with st.expander("Reference answer", expanded=True):
            for i, text in enumerate(q["reference"], start=1):
                st.markdown(f"**Reference, turn {i}**")
                common.model_text(text, raw)

cols = st.columns(2)
for col, side in zip(cols, ("a", "b"), strict=True):
    with col:
        answer = detail[f"answer_{side}"]
        score = row.get(f"score_{side}")
        title = f"{side.upper()}: {md_escape(row[f'model_{side}'])}"
        if score is not None and score == score:
            title += f" (score {score:g})"
        st.markdown(f"#### {title}")
        if answer is None:
            st.caption("The answer text is not in this source.")
            continue
        if answer["error"]:
            st.error(f"generation failed: {answer['error']}")
        for i, text in enumerate(answer["turns"], start=1):
            if len(answer["turns"]) > 1:
                st.markdown(f"**Turn {i}**" + (" (judged)" if i == row["turn"] else ""))
            with st.container(border=True):
                common.model_text(text, raw)

st.subheader("Judge")
if len(detail["orders"]) == 2:
    winners = {o["winner_model"] for o in detail["orders"] if not o["error"]}
    st.markdown("Both orders agree." if len(winners) == 1 else "**The two orders disagree (order flip).**")
for order in detail["orders"]:
    with st.container(border=True):
        shown_as = "swapped order" if order["swapped"] else "original order"
        st.markdown(f"**{md_escape(order['model_a'])}** shown first, **{md_escape(order['model_b'])}** second ({shown_as})"
                    + (f"; judge `{order['judge']}`" if order["judge"] else "")
                    + (f", prompt `{order['prompt']}`" if order["prompt"] else ""))
        if order["error"]:
            st.error(f"no verdict: {order['error']}")
        else:
            st.markdown(f"verdict **{md_escape(order['verdict'])}** → winner **{md_escape(order['winner_model'])}**")
        if order["output"]:
            with st.expander("Judge's explanation", expanded=True):
                common.model_text(order["output"], raw)
        elif data.kind != "run":
            st.caption("No judge text in this source.")
