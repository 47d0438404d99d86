"""Streamlit entry point of the battle browser: ``streamlit run viz/app.py -- RUN_DIR``.

The source to show comes from ``$ARENA_VIZ_RUN`` (set by ``arena viz``) or the first script argument.
"""

from __future__ import annotations

import sys
from pathlib import Path

# A source checkout run with `streamlit run viz/app.py` has neither `arena` nor `viz` on sys.path.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

st.set_page_config(page_title="arena battle browser", page_icon=":crossed_swords:", layout="wide")

# The default page is served at "/" only: Streamlit answers its own url_path with "Page not found". So the
# leaderboard is the default page at "/" and, as a page hidden from the menu, also at /leaderboard (links and
# the README use both). Every other page has its url_path.
_PAGES = [
    st.Page("views/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:", url_path="", default=True),
    st.Page("views/leaderboard.py", title="Leaderboard", icon=":material/leaderboard:", url_path="leaderboard",
            visibility="hidden"),
    st.Page("views/matchups.py", title="Matchups", icon=":material/grid_on:", url_path="matchups"),
    st.Page("views/battles.py", title="Battles", icon=":material/swords:", url_path="battles"),
    st.Page("views/judge.py", title="Judge report", icon=":material/gavel:", url_path="judge"),
    st.Page("views/vote.py", title="Vote", icon=":material/how_to_vote:", url_path="vote"),
    st.Page("views/people.py", title="Judge vs people", icon=":material/groups:", url_path="people"),
    st.Page("views/single.py", title="Single mode", icon=":material/star:", url_path="single"),
]
st.navigation(_PAGES).run()
