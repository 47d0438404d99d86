"""Vote page: blind pairwise votes on the run's games, appended to ``RUN_DIR/human_votes.jsonl``.

The two answers are shown side by side in a seeded order with the model names hidden until the vote is
cast; buttons and keyboard shortcuts (a / b / t / x / s) vote A / B / tie / both bad / skip. What to show
next, the validation and the write are :mod:`arena.browse.votes`.
"""

from __future__ import annotations

import json

import streamlit as st

from arena import browse as vd
from arena.browse import votes as bv
from arena.errors import UserError
from arena.records.votes import latest_votes
from arena.text import md_escape
from viz import common

BUTTONS = [("A", "A is better", "a"), ("B", "B is better", "b"), ("tie", "Tie", "t"), ("bothbad", "Both bad", "x"),
           ("skip", "Skip", "s")]
"""(label stored, button text, key): the button text ends with the key in brackets."""
SAID = {"A": "A (left) is better", "B": "B (right) is better", "tie": "a tie", "bothbad": "both bad", "skip": "skip"}


def button_text(text: str, key: str) -> str:
    return f"{text} [{key}]"


def key_script() -> str:
    """A script for ``st.iframe`` that maps a key press on the page to a click on its vote button.

    Streamlit has no key bindings: the script (in the component's same-origin iframe) listens on the parent
    document, ignores keys typed into inputs or with modifiers, and replaces its previous listener on rerun.
    """
    keys = {k: button_text(t, k) for _, t, k in BUTTONS}
    script = """<script>
const doc = window.parent.document;
const keys = KEYS;
function onKey(e) {
  const t = e.target;
  if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.isContentEditable)) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const text = keys[(e.key || "").toLowerCase()];
  if (!text) return;
  const btn = Array.from(doc.querySelectorAll("button")).find(b => b.innerText.trim() === text);
  if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
}
if (doc.__arenaVoteKeys) doc.removeEventListener("keydown", doc.__arenaVoteKeys);
doc.__arenaVoteKeys = onKey;
doc.addEventListener("keydown", onKey);
</script>"""
    return script.replace("KEYS", json.dumps(keys))


st.title("Vote")
data = common.load()
if bv.votes_path(data) is None:
    st.info("Votes are cast on a run dir (its judged games and answers); this source is a "
            f"{data.kind} file. Start the browser with `arena viz RUN_DIR`.")
    st.stop()
games = common.vote_games()
if games.empty:
    common.no_battles(data)

common.init_state("who", "")
annotator = st.text_input("Your name", key="who", max_chars=bv.MAX_ANNOTATOR,
                          help="Stored with each vote (a pseudonym is fine); your votes are kept apart from others'.")
secret = bv.vote_secret()
allowed = True
if secret is not None:
    common.init_state("token", "")
    given = st.text_input("Access token", key="token", type="password",
                          help="Printed by `arena viz` at start (or the password it was started with).")
    allowed = bv.access_ok(given, secret)
    if not allowed:
        st.warning("This browser is shared beyond this machine: enter the access token to vote.")
common.sync_params(["who"], {"who": ""})
if not annotator.strip():
    st.info("Enter your name to start voting.")
    st.stop()

votes = bv.load_votes(data)
seed = int(data.manifest.seed or 0) if data.manifest is not None else 0  # an imported run may have none
rows = common.leaderboard(None)[0]
queue = bv.order_games(games, votes, seed, annotator.strip(), bv.predicted_share(games, rows))
mine = len({v.game_key for v in votes if v.annotator == annotator.strip()} & set(games["game_key"]))
st.progress(mine / len(games), text=f"{mine:,} of {len(games):,} games voted by you; "
            f"{sum(v.label != 'skip' for v in latest_votes(votes)):,} votes by everyone")

last = st.session_state.get("last_vote")
if last:
    st.success(last)
if st.session_state.get("vote_error"):
    st.error(st.session_state.pop("vote_error"))
if not queue:
    st.success("You have voted on every game of this run. Thank you!")
    st.stop()

game = games.set_index("game_key").loc[queue[0]]
game_key = str(queue[0])
left = bv.left_model({"game_key": game_key, "model_a": game["model_a"], "model_b": game["model_b"]},
                     annotator.strip(), seed)
right = str(game["model_b"] if left == game["model_a"] else game["model_a"])


def cast(label: str, key: str, shown_left: str, shown_right: str, who: str) -> None:
    """Button callback: the game and sides are the ones shown when the button was drawn."""
    if not bv.access_ok(st.session_state.get("token"), bv.vote_secret()):  # the button is disabled; check anyway
        st.session_state["vote_error"] = "Enter the access token to vote."
        return
    done = st.session_state.setdefault("voted", set())
    if (who, key) in done:  # a double key press before the page moved on
        return
    # Another tab or session of the same name may have voted on this game since it was drawn: the file keeps
    # both votes and only the latest counts, so say so.
    earlier = bv.earlier_vote(bv.load_votes(data), who, key) if label != "skip" else None
    try:
        bv.cast_vote(data, games, key, label, who, shown_left)
    except UserError as exc:
        st.session_state["vote_error"] = str(exc)
        return
    done.add((who, key))
    st.session_state["last_vote"] = (f"Saved: you said {SAID[label]}. Left (A) was **{shown_left}**, "
                                     f"right (B) was **{shown_right}**." + (
                                         f" It replaces your earlier vote on this game ({SAID[earlier.label]}, "
                                         f"{earlier.created}): only your latest vote counts." if earlier else ""))


st.subheader(f"Question {md_escape(game['question_id'])} ({md_escape(game['category'])})" + (f", turn {game['turn']}" if game["turn"] > 1 else ""))
question = data.questions.loc[game["question_id"]] if game["question_id"] in data.questions.index else None
turn = int(game["turn"])
if question is None:
    st.caption("The question text is not in this run dir.")
else:
    for i, text in enumerate(list(question["turns"])[:turn], start=1):
        if turn > 1:
            st.markdown(f"**User, turn {i}**")
        common.model_text(text)
cols = st.columns(2)
for col, model, side in ((cols[0], left, "A"), (cols[1], right, "B")):
    with col:
        st.markdown(f"#### Answer {side}")
        key = str(game["answer_a"] if model == game["model_a"] else game["answer_b"])
        turns = vd.answer_turns(data, key)[:turn]
        for i, text in enumerate(turns, start=1):
            if turn > 1:
                st.markdown(f"**Turn {i}**")
            with st.container(border=True):
                common.model_text(text)
buttons = st.columns(len(BUTTONS))
for col, (label, text, key) in zip(buttons, BUTTONS, strict=True):
    col.button(button_text(text, key), key=f"vote_{label}", disabled=not allowed, width="stretch",
               on_click=cast, args=(label, game_key, left, right, annotator.strip()))
st.caption("Keys: a = A is better, b = B is better, t = tie, x = both bad, s = skip. "
           "Model names are shown after you vote.")
st.iframe(key_script(), height=1)  # our own fixed script, never page or model text
