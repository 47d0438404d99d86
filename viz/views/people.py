"""Judge vs people page: how far the judge agrees with the human votes on the same games, with intervals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from arena.browse import people as bp
from arena.records.votes import repeat_notes
from arena.text import md_escape
from viz import charts, common


def pct(stat: dict | None) -> str:
    """A ``{"value", "ci"}`` share as ``52.0% [40.1, 63.3]``."""
    if not stat or stat.get("value") is None:
        return "n/a"
    ci = stat.get("ci")
    return f"{100 * stat['value']:.1f}%" + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")


def num(stat: dict | None) -> str:
    """A ``{"value", "ci"}`` number as ``0.412 [0.2, 0.6]``."""
    if not stat or stat.get("value") is None:
        return "n/a"
    ci = stat.get("ci")
    return f"{stat['value']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


st.title("Judge vs people")
data = common.load()
if data.kind != "run":
    st.info(f"Judge vs people compares a run's judgments with the votes cast on it; this source is a {data.kind} file.")
    st.stop()
votes = common.votes()
if not votes:
    st.info("No human votes yet: cast some on the Vote page (they go to human_votes.jsonl in the run dir).")
    st.stop()
people = common.people()
if people is None or not people.get("comparisons"):
    st.info(f"{len(votes):,} votes, none on a game the judge decided yet.")
    st.stop()

st.caption(f"{people['matched_votes']:,} votes on {people['games']:,} judged games ({people['skipped_votes']:,} "
           f"skipped); 95% intervals: bootstrap over games, {people['bootstrap']['rounds']} rounds.")
for note in repeat_notes(votes):  # the agreement counts each annotator's latest vote on a game once
    st.warning(md_escape(note))
a = people["agreement"]
c = st.columns(3)
c[0].metric("agreement, ties counted", pct(a.get("agreement_with_ties")))
c[1].metric("agreement, decisive only", pct(a.get("agreement_without_ties")))
c[2].metric("Cohen's kappa", num(a.get("cohen_kappa")))
pb = people["position_bias"]
c = st.columns(3)
c[0].metric("judge: first answer wins", pct(pb.get("judge_first_position_win_rate")))
c[1].metric("people: first answer wins", pct(pb.get("people_first_position_win_rate")))
diff_key = next((k for k in pb if k not in ("judge_first_position_win_rate", "people_first_position_win_rate")), None)
c[2].metric(diff_key.replace("_", " ") if diff_key else "difference", num(pb.get(diff_key)) if diff_key else "n/a")

frame = bp.agreement_frame(people)
shares = frame[frame["measure"].str.startswith("agreement")].dropna(subset=["value"])
if not shares.empty:
    groups = shares.rename(columns={"group": "model"})  # one row per group, bars per measure
    st.markdown("**Agreement by category and by the judge's order** (dashed: 50%)")
    st.altair_chart(charts.model_bars(groups, "value", "agreement", ".0%", group="measure", rule_at=0.5),
                    width="stretch")
st.dataframe(frame, hide_index=True, width="stretch")

rc = people.get("rank_correlation") or {}
st.subheader("Judge's leaderboard vs the people's")
if "correlations" in rc:
    corr = rc["correlations"].get("rating", {})
    ints = ((rc.get("bootstrap") or {}).get("intervals") or {}).get("rating", {})
    st.dataframe(pd.DataFrame([{"statistic": k, "value": v, "95% interval": ints.get(k)} for k, v in corr.items()]),
                 hide_index=True, width="stretch")
    st.caption(f"{rc.get('models', '?')} models rated by both.")
else:
    st.info(f"Not compared: {rc.get('skipped', 'no leaderboard from the votes yet')}.")
with st.expander("All numbers"):
    st.json(people)
