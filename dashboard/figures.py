"""Figures as pure functions of small data frames (plotly.graph_objects only).

graph_objects rather than plotly.express: express costs ~20 ms per chart,
graph_objects ~1 ms (docs/benchmarks.md). Every chart that shows TIV says
in its axis title that TIV is a volume index, not money.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Templates are deep-copied into every figure (~30 ms each): style by hand instead.
pio.templates.default = "none"
AXIS = dict(gridcolor="#e9ecef", zerolinecolor="#dee2e6", linecolor="#dee2e6", automargin=True)
STYLE = dict(paper_bgcolor="white", plot_bgcolor="white", font=dict(family="system-ui, sans-serif", size=12,
             color="#343a40"), hoverlabel=dict(bgcolor="white"), colorway=list(("#1f77b4", "#ff7f0e")))

TIV_AXIS = "TIV (volume index, not money)"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#7f7f7f", "#393b79", "#637939")
OTHERS_COLOUR = "#c7c7c7"
GROUP_COLOURS = {"NATO members": "#1f77b4", "Russia/Soviet Union": "#d62728", "China": "#ff7f0e",
                 "Others": OTHERS_COLOUR}
MARGIN = dict(l=10, r=10, t=40, b=10)


def _layout(fig: go.Figure, title: str, **kw) -> go.Figure:
    kw.setdefault("xaxis", {})
    kw.setdefault("yaxis", {})
    kw["xaxis"] = {**AXIS, **{k: v for k, v in kw["xaxis"].items() if v is not None}}
    kw["yaxis"] = {**AXIS, **{k: v for k, v in kw["yaxis"].items() if v is not None}}
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=15)), margin=MARGIN,
                      legend=dict(orientation="h", y=-0.18), **STYLE, **kw)
    return fig


def _plain(values: pd.Series) -> pd.Series:
    """Data text for hover labels, with Plotly's pseudo-HTML neutralised."""
    return values.fillna("").astype(str).str.replace("&", "&amp;").str.replace("<", "&lt;").str.replace(">", "&gt;")


def empty(message: str) -> go.Figure:
    """A blank chart that says why it is blank (no data, no match, bad filter)."""
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=14, color="#6c757d"))
    fig.update_layout(margin=MARGIN, xaxis=dict(visible=False), **STYLE,
                      yaxis=dict(visible=False), height=300)
    return fig


def choropleth(frame: pd.DataFrame, title: str, value: str = "tiv", label: str = TIV_AXIS,
               hover_format: str = ",.0f") -> go.Figure:
    """World map by ISO3; rows without ISO3 are left to the list beside the map."""
    coded = frame[frame["iso3"].fillna("") != ""]
    if coded.empty:
        return empty("No country with a map shape in this selection")
    fig = go.Figure(go.Choropleth(
        locations=coded["iso3"], z=coded[value].astype(float), text=_plain(coded["name"]), locationmode="ISO-3",
        colorscale="Blues", marker_line_color="#ffffff", marker_line_width=0.4,
        colorbar=dict(title=dict(text=label, side="right"), thickness=12),
        hovertemplate="%{text}<br>%{z:" + hover_format + "}<extra></extra>",
    ))
    fig.update_geos(showframe=False, showcoastlines=False, projection_type="natural earth",
                    projection_rotation=dict(lon=0, lat=0), center=dict(lon=0, lat=15),
                    lonaxis_range=[-180, 180], lataxis_range=[-58, 85], fitbounds=False,
                    showcountries=True, countrycolor="#dddddd", landcolor="#f3f3f3", showland=True)
    return _layout(fig, title, height=420, geo=dict(bgcolor="rgba(0,0,0,0)"))


def _ordered_keys(frame: pd.DataFrame) -> list[str]:
    totals = frame.groupby("key")["tiv"].sum().sort_values(ascending=False)
    keys = [k for k in totals.index if k != "Others"]
    return keys + (["Others"] if "Others" in totals.index else [])


def stacked_years(frame: pd.DataFrame, title: str, colours: dict[str, str] | None = None,
                  percent: bool = False) -> go.Figure:
    """Stacked bars of TIV per year and key (category, partner or bloc)."""
    if frame.empty or not frame["tiv"].fillna(0).any():
        return empty("No deliveries in this selection")
    wide = frame.pivot_table(index="year", columns="key", values="tiv", aggfunc="sum").fillna(0.0)
    wide = wide.reindex(range(int(wide.index.min()), int(wide.index.max()) + 1), fill_value=0.0)
    if percent:
        wide = wide.div(wide.sum(axis=1).replace(0, np.nan), axis=0) * 100
    keys = list(colours) if colours else _ordered_keys(frame)
    fig = go.Figure()
    for i, key in enumerate(k for k in keys if k in wide.columns):
        colour = (colours or {}).get(key) or (OTHERS_COLOUR if key == "Others" else PALETTE[i % len(PALETTE)])
        fig.add_trace(go.Bar(
            x=wide.index, y=wide[key], name=str(key).replace("<", "&lt;"), marker_color=colour,
            hovertemplate="%{fullData.name}<br>%{x}: " + ("%{y:.1f}%" if percent else "%{y:,.0f} TIV")
            + "<extra></extra>"))
    return _layout(fig, title, barmode="stack", height=380, bargap=0.1,
                   yaxis=dict(title="share of imports (%)" if percent else TIV_AXIS,
                              range=[0, 100] if percent else None),
                   xaxis=dict(title="delivery year"))


def top_bars(frame: pd.DataFrame, title: str, colour: str = PALETTE[0]) -> go.Figure:
    """Horizontal bars of the largest entities, labelled with their share of the selection."""
    if frame.empty or not frame["tiv"].fillna(0).any():
        return empty("No deliveries in this selection")
    frame = frame.iloc[::-1]
    labels = (frame["share"].fillna(0) * 100).map("{:.1f}%".format)
    fig = go.Figure(go.Bar(
        x=frame["tiv"], y=_plain(frame["name"]), orientation="h", marker_color=colour, text=labels,
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:,.0f} TIV (%{text} of selection)<extra></extra>"))
    return _layout(fig, title, height=max(260, 32 * len(frame) + 80), showlegend=False,
                   xaxis=dict(title=TIV_AXIS), yaxis=dict(automargin=True))


def sankey(frame: pd.DataFrame, title: str) -> go.Figure:
    """Suppliers on the left, recipients on the right; one link per flow."""
    if frame.empty:
        return empty("No deliveries in this selection")
    suppliers = list(dict.fromkeys(frame["supplier"]))
    recipients = list(dict.fromkeys(frame["recipient"]))
    source = frame["supplier"].map({n: i for i, n in enumerate(suppliers)})
    target = frame["recipient"].map({n: i + len(suppliers) for i, n in enumerate(recipients)})
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(suppliers))]
    link_colours = [colours[i].replace("#", "") for i in source]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(label=list(_plain(pd.Series(suppliers + recipients, dtype=object))), pad=8, thickness=14,
                  color=colours + ["#9aa5b1"] * len(recipients),
                  hovertemplate="%{label}: %{value:,.0f} TIV<extra></extra>"),
        link=dict(source=source, target=target, value=frame["tiv"],
                  color=[f"rgba({int(c[0:2], 16)},{int(c[2:4], 16)},{int(c[4:6], 16)},0.35)" for c in link_colours],
                  hovertemplate="%{source.label} → %{target.label}: %{value:,.0f} TIV<extra></extra>"),
    ))
    return _layout(fig, title, height=max(500, 18 * len(recipients) + 120))


def weapon_timeline(frame: pd.DataFrame, title: str) -> go.Figure:
    """One row per recipient: a marker at each order year, a line over its delivery years."""
    if frame.empty:
        return empty("No deal matches this search")
    data = frame[frame["order_year"].notna()]
    order = list(dict.fromkeys(data.sort_values("order_year")["recipient"]))
    fig = go.Figure()
    spans = data[data["first_delivery_year"].notna()]
    if not spans.empty:
        n = len(spans)
        xs = np.empty(n * 3, dtype=object)
        ys = np.empty(n * 3, dtype=object)
        xs[0::3], xs[1::3], xs[2::3] = spans["first_delivery_year"].to_numpy(), spans["last_delivery_year"].to_numpy(), None
        ys[0::3], ys[1::3], ys[2::3] = spans["recipient"].to_numpy(), spans["recipient"].to_numpy(), None
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name="delivery years",
                                 line=dict(color="#2ca02c", width=6), marker=dict(size=6), hoverinfo="skip"))
    value = data["reported_value_text"].fillna("").where(data["reported_value_text"].fillna("") != "", "no value reported")
    hover = (_plain(data["recipient"]) + " ← " + _plain(data["supplier"]) + "<br>" + _plain(data["designation"]) + " ("
             + data["number_ordered"].astype("Int64").astype(str).replace("<NA>", "?") + " ordered)<br>"
             + "reported value: " + _plain(value))
    fig.add_trace(go.Scatter(
        x=data["order_year"], y=data["recipient"], mode="markers", name="order year",
        marker=dict(size=11, color="#1f77b4", symbol="diamond"), text=hover,
        hovertemplate="%{text}<br>ordered %{x}<extra></extra>"))
    return _layout(fig, title, height=max(280, 26 * len(order) + 120),
                   yaxis=dict(categoryorder="array", categoryarray=order[::-1], automargin=True),
                   xaxis=dict(title="year", dtick=5))
