"""Figures as pure functions of small data frames, returned as plain Plotly dicts.

Plain `{"data": [...], "layout": {...}}` dicts rather than plotly.graph_objects:
Dash sends a figure as JSON either way and plotly.js validates it in the
browser, while graph_objects validated every property in Python first. That
validation was most of the overview callback's time (~150 of ~190 ms for four
figures; express was worse still) and its validator classes most of the
plotly memory of a worker (docs/benchmarks.md). Columns go out as lists
(`tolist()`, vectorised), NaN as None. Every chart that shows TIV says in its
axis title that TIV is a volume index, not money.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

# Margins are set here, not measured by plotly.js: with `automargin` every redraw measured the
# tick labels and, when they changed width (a filter change), drew the whole chart a second time;
# `ticklabeloverflow` "allow" skips measuring every label against the plot's edges. Together
# about a third of a chart's redraw in the browser (docs/benchmarks.md).
AXIS = dict(gridcolor="#e9ecef", zerolinecolor="#dee2e6", linecolor="#dee2e6", automargin=False,
            ticklabeloverflow="allow")
STYLE = dict(paper_bgcolor="white", plot_bgcolor="white", font=dict(family="system-ui, sans-serif", size=12,
             color="#343a40"), hoverlabel=dict(bgcolor="white"), colorway=["#1f77b4", "#ff7f0e"])

TIV_AXIS = "TIV (volume index, not money)"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f", "#393b79", "#637939")
OTHERS_COLOUR = "#c7c7c7"
GROUP_COLOURS = {"NATO members": "#1f77b4", "Russia/Soviet Union": "#d62728", "China": "#ff7f0e",
                 "Others": OTHERS_COLOUR}
MARGIN = dict(l=10, r=10, t=40, b=10)
CHAR_PX = 7  # width of a character of the 12 px font, generously: labels are never measured
# ColorBrewer Blues, light to dark, spelled out: plotly.js's own "Blues" runs dark to light.
BLUES = [[i / 8, c] for i, c in enumerate((
    "rgb(247,251,255)", "rgb(222,235,247)", "rgb(198,219,239)", "rgb(158,202,225)", "rgb(107,174,214)",
    "rgb(66,146,198)", "rgb(33,113,181)", "rgb(8,81,156)", "rgb(8,48,107)"))]

Figure = dict  # {"data": [trace dicts], "layout": {...}}, what dcc.Graph's `figure` takes
# The trace types in the app's partial plotly.js bundle (assets/js, see VENDORED.txt): a chart
# of any other type would not draw.
BUNDLED_TRACES = frozenset({"bar", "scatter", "choropleth", "sankey"})


def _figure(data: list[dict], title: str, margin: dict | None = None, **kw) -> Figure:
    """A figure with the house style; `margin` overrides MARGIN's sides (axes do not size them)."""
    # uirevision: legend clicks (a hidden trace, matched by uid) survive a filter change
    layout = dict(title=dict(text=title, x=0, font=dict(size=15)), margin={**MARGIN, **(margin or {})},
                  # a legend at the figure's foot, inside the bottom margin: one placed below the plot
                  # pushed the margin (another redraw) and covered the x axis title when it wrapped
                  legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", uirevision="keep"),
                  **STYLE)
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**AXIS, **{k: v for k, v in kw.pop(axis, {}).items() if v is not None}}
    layout.update(kw)
    return {"data": data, "layout": layout}


def _values(values) -> list:
    """Numbers as JSON-ready values, missing ones as None (vectorised, no per-row Python)."""
    a = values.to_numpy(dtype=float, na_value=np.nan) if isinstance(values, pd.Series) else np.asarray(values, float)
    return np.where(np.isnan(a), None, a).tolist()


def _uid(key: object) -> str:
    """A trace's stable identity (legend clicks follow it across redraws). plotly.js puts it into
    CSS selectors, so it must be a plain token: a name such as "Russia/Soviet Union" broke the page."""
    return "t" + hashlib.sha1(str(key).encode()).hexdigest()[:12]


def _label_margin(labels: list[str], least: int = 40, most: int = 260) -> int:
    """Room in pixels for category tick labels beside an axis (their longest, within bounds)."""
    longest = max((len(label) for label in labels), default=0)
    return int(min(most, max(least, longest * CHAR_PX + 16)))


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _plain(values: pd.Series) -> pd.Series:
    """Data text for hover labels, with Plotly's pseudo-HTML neutralised (one pass, not three)."""
    return values.fillna("").astype(str).str.translate(_ESCAPES)


def pending(height: int) -> Figure:
    """What a chart holds until its callback answers: nothing to draw, at the chart's height.

    plotly.js's default empty figure draws a full set of axes and grid lines
    (tens of ms of a page load for each chart) only for them to be drawn again.
    """
    return {"data": [], "layout": dict(margin=MARGIN, xaxis=dict(visible=False), yaxis=dict(visible=False),
                                       height=height, **STYLE)}


def empty(message: str) -> Figure:
    """A blank chart that says why it is blank (no data, no match, bad filter)."""
    return {"data": [], "layout": dict(
        annotations=[dict(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                          font=dict(size=14, color="#6c757d"))],
        margin=MARGIN, xaxis=dict(visible=False), yaxis=dict(visible=False), height=300, **STYLE)}


def choropleth(frame: pd.DataFrame, title: str, value: str = "tiv", label: str = TIV_AXIS,
               hover_format: str = ",.0f") -> Figure:
    """World map by ISO3; rows without ISO3 are left to the list beside the map."""
    coded = frame[frame["iso3"].fillna("") != ""]
    if coded.empty:
        return empty("No country with a map shape in this selection")
    trace = dict(
        type="choropleth", locations=coded["iso3"].tolist(), z=_values(coded[value].astype(float)),
        text=_plain(coded["name"]).tolist(), locationmode="ISO-3", colorscale=BLUES,
        marker=dict(line=dict(color="#c8c8c8", width=0.5)),
        # inside the map, over the empty South Pacific: a colour bar beside the map pushed the
        # margin, and plotly.js drew the whole map twice on every change of its tick labels
        colorbar=dict(title=dict(text=label, side="top"), orientation="h", x=0.01, xanchor="left", y=0.02,
                      yanchor="bottom", len=0.3, thickness=10, outlinewidth=0, bgcolor="rgba(255,255,255,0.7)"),
        hovertemplate="%{text}<br>%{z:" + hover_format + "}<extra></extra>",
    )
    geo = dict(showframe=False, showcoastlines=False, projection=dict(type="natural earth", rotation=dict(lon=0, lat=0)),
               center=dict(lon=0, lat=15), lonaxis=dict(range=[-180, 180]), lataxis=dict(range=[-58, 85]),
               fitbounds=False, showland=True, landcolor="#f3f3f3", bgcolor="rgba(0,0,0,0)",
               # the trace outlines the countries it colours; a second layer of borders for all
               # countries cost ~30 ms of each redraw in the browser (a filter change)
               showcountries=False)
    return _figure([trace], title, height=420, geo=geo)


def _pivot(frame: pd.DataFrame) -> tuple[list[int], list, np.ndarray]:
    """(years, keys, TIV grid keys x years), every year of the span present.

    numpy rather than DataFrame.pivot_table, which cost ~5 ms a chart.
    """
    frame = frame[frame["year"].notna()]
    year = frame["year"].to_numpy(dtype=int)
    codes, keys = pd.factorize(frame["key"])
    first = int(year.min())
    grid = np.zeros((len(keys), int(year.max()) - first + 1))
    np.add.at(grid, (codes, year - first), frame["tiv"].to_numpy(dtype=float, na_value=0.0))
    return list(range(first, first + grid.shape[1])), list(keys), grid


def stacked_years(frame: pd.DataFrame, title: str, colours: dict[str, str] | None = None,
                  percent: bool = False, most: int | None = None) -> Figure:
    """Stacked bars of TIV per year and key (category, partner or bloc).

    With `most`, only the `most` largest keys of the selection get their own
    bars; the rest are summed as "Others" (every trace is redrawn on each
    filter change, and a sliver a few pixels high per year says nothing).
    """
    if frame.empty or not frame["tiv"].fillna(0).any():
        return empty("No deliveries in this selection")
    years, keys, grid = _pivot(frame)
    if most is not None and len(keys) > most + 1:
        ranked = [i for i in np.argsort(-grid.sum(axis=1), kind="stable") if keys[i] != "Others"]
        rest = [i for i in range(len(keys)) if i not in ranked[:most]]
        grid = np.vstack([grid[ranked[:most]], grid[rest].sum(axis=0, keepdims=True)])
        keys = [keys[i] for i in ranked[:most]] + ["Others"]
    if percent:
        totals = grid.sum(axis=0)
        grid = np.divide(grid * 100, totals, out=np.full_like(grid, np.nan), where=totals != 0)
    if colours:
        order = [k for k in colours if k in keys]
    else:  # largest first, "Others" last
        order = [keys[i] for i in np.argsort(-grid.sum(axis=1), kind="stable") if keys[i] != "Others"]
        order += ["Others"] if "Others" in keys else []
    hover = "%{fullData.name}<br>%{x}: " + ("%{y:.1f}%" if percent else "%{y:,.0f} TIV") + "<extra></extra>"
    data = []
    for i, key in enumerate(order):  # one trace per key (a handful), not per row
        colour = (colours or {}).get(key) or (OTHERS_COLOUR if key == "Others" else PALETTE[i % len(PALETTE)])
        data.append(dict(type="bar", x=years, y=_values(grid[keys.index(key)]), name=str(key).replace("<", "&lt;"),
                         uid=_uid(key), marker=dict(color=colour), hovertemplate=hover))
    # left: tick labels up to "40k" and the axis title; bottom: years, the axis title and two
    # rows of legend
    return _figure(data, title, margin=dict(l=70, b=105), barmode="stack", height=420, bargap=0.1,
                   yaxis=dict(title=dict(text="share of imports (%)" if percent else TIV_AXIS),
                              range=[0, 100] if percent else None),
                   xaxis=dict(title=dict(text="delivery year")))


def _rgba(hex_colour: str, alpha: float) -> str:
    c = hex_colour.lstrip("#")
    return f"rgba({int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},{alpha})"


def sankey(frame: pd.DataFrame, title: str) -> Figure:
    """Suppliers on the left, recipients on the right; one link per flow."""
    if frame.empty:
        return empty("No deliveries in this selection")
    suppliers = list(dict.fromkeys(frame["supplier"]))
    recipients = list(dict.fromkeys(frame["recipient"]))
    source = frame["supplier"].map({n: i for i, n in enumerate(suppliers)})
    target = frame["recipient"].map({n: i + len(suppliers) for i, n in enumerate(recipients)})
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(suppliers))]
    link_palette = [_rgba(c, 0.35) for c in colours]  # one per supplier
    trace = dict(
        type="sankey", arrangement="snap",
        node=dict(label=_plain(pd.Series(suppliers + recipients, dtype=object)).tolist(), pad=8, thickness=14,
                  color=colours + ["#9aa5b1"] * len(recipients),
                  hovertemplate="%{label}: %{value:,.0f} TIV<extra></extra>"),
        link=dict(source=source.tolist(), target=target.tolist(), value=_values(frame["tiv"]),
                  color=source.map(dict(enumerate(link_palette))).tolist(),
                  hovertemplate="%{source.label} → %{target.label}: %{value:,.0f} TIV<extra></extra>"),
    )
    return _figure([trace], title, height=max(500, 18 * len(recipients) + 120))


def weapon_timeline(frame: pd.DataFrame, title: str) -> Figure:
    """One row per recipient: a marker at each order year, a line over its delivery years."""
    if frame.empty:
        return empty("No deal matches this search")
    data = frame[frame["order_year"].notna()]
    order = list(dict.fromkeys(data.sort_values("order_year")["recipient"]))
    traces = []
    spans = data[data["first_delivery_year"].notna()]
    if not spans.empty:  # one line per deal, as x/y arrays broken by None gaps
        n = len(spans)
        xs = np.empty(n * 3, dtype=object)
        ys = np.empty(n * 3, dtype=object)
        xs[0::3], xs[1::3], xs[2::3] = _values(spans["first_delivery_year"]), _values(spans["last_delivery_year"]), None
        ys[0::3], ys[1::3], ys[2::3] = spans["recipient"].tolist(), spans["recipient"].tolist(), None
        traces.append(dict(type="scatter", x=xs.tolist(), y=ys.tolist(), mode="lines+markers", name="delivery years",
                           line=dict(color="#2ca02c", width=6), marker=dict(size=6), hoverinfo="skip"))
    value = data["reported_value_text"].fillna("").where(data["reported_value_text"].fillna("") != "", "no value reported")
    hover = (_plain(data["recipient"]) + " ← " + _plain(data["supplier"]) + "<br>" + _plain(data["designation"]) + " ("
             + data["number_ordered"].astype("Int64").astype(str).replace("<NA>", "?") + " ordered)<br>"
             + "reported value: " + _plain(value))
    traces.append(dict(type="scatter", x=_values(data["order_year"]), y=data["recipient"].tolist(), mode="markers",
                       name="order year", marker=dict(size=11, color="#1f77b4", symbol="diamond"),
                       text=hover.tolist(), hovertemplate="%{text}<br>ordered %{x}<extra></extra>"))
    return _figure(traces, title, margin=dict(l=_label_margin([str(o) for o in order]), b=75),
                   height=max(280, 26 * len(order) + 120),
                   yaxis=dict(categoryorder="array", categoryarray=order[::-1]),
                   xaxis=dict(title=dict(text="year"), dtick=5))
