"""Chart specs: count axes tick whole numbers only, value labels are dark text whatever the bar colour."""

from __future__ import annotations

from typing import Any

import pandas as pd

from viz import charts


def layers(chart: Any) -> list[dict[str, Any]]:
    return list(chart.to_dict()["layer"])


def test_count_axis_ticks_whole_numbers() -> None:
    counts = pd.DataFrame({"verdict": ["model_a", "model_b"], "count": [13, 11]})
    bars = layers(charts.measure_bars(counts, "verdict", "count", "Verdicts", charts.COUNT_FORMAT))[0]
    axis = bars["encoding"]["x"]["axis"]
    assert axis["tickMinStep"] == 1 and axis["format"].endswith("d")
    shares = pd.DataFrame({"measure": ["ties"], "share": [0.25]})
    assert "tickMinStep" not in layers(charts.measure_bars(shares, "measure", "share", "s", ".0%"))[0]["encoding"]["x"]["axis"]
    long = pd.DataFrame({"model": ["a", "b"], "opponent": ["b", "a"], "value": [3, 3]})
    legend = layers(charts.heatmap(long, ["a", "b"], "battles", charts.COUNT_FORMAT, "greens"))[0]["encoding"]["color"]["legend"]
    assert legend["tickMinStep"] == 1


def test_value_labels_are_dark_not_group_coloured() -> None:
    frame = pd.DataFrame({"model": ["a", "a", "b", "b"], "position": ["shown first", "shown second"] * 2,
                          "win_rate": [0.5, 0.4, 0.6, 0.7]})
    bars, text, _ = layers(charts.model_bars(frame, "win_rate", "win rate", ".0%", group="position", rule_at=0.5))
    assert "color" in bars["encoding"]  # the bars are coloured by position
    assert "color" not in text["encoding"] and text["mark"]["color"] == charts.VALUE_COLOR
    assert text["encoding"]["yOffset"]["field"] == "position"  # each label beside its own bar
    rows = pd.DataFrame({"model": ["a", "b"], "rating": [1010.0, 990.0], "ci_low": [1000.0, 980.0],
                         "ci_high": [1020.0, 1000.0], "rank": [1, 2]})
    ranks = layers(charts.interval_chart(rows))[2]
    assert ranks["mark"]["color"] == charts.VALUE_COLOR


def test_interval_chart_names_its_confidence_level() -> None:
    rows = pd.DataFrame({"model": ["a", "b"], "rating": [1010.0, 990.0], "ci_low": [1000.0, 980.0],
                         "ci_high": [1020.0, 1000.0], "rank": [1, 2]})
    titles = [layer["encoding"]["x"].get("title") for layer in layers(charts.interval_chart(rows, 0.9))
              if "x" in layer["encoding"] and isinstance(layer["encoding"]["x"], dict)]
    assert "rating (90% interval)" in titles and "rating (95% interval)" not in titles
