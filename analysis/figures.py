"""Figures of the report: each function takes derived tables and returns a matplotlib Figure.

matplotlib runs on the Agg backend (no display). :func:`save` writes a figure as PNG and SVG
and returns the PNG bytes for embedding in the self-contained HTML report.
"""

import io

import numpy as np

LIKERT_COLORS = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure, folder, name, formats=("png", "svg")):
    """Write ``figure`` as ``folder/name.<format>`` for each format; return the PNG bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> figure = _pyplot().figure()
    >>> png = save(figure, pathlib.Path(tempfile.mkdtemp()), "empty", formats=("png",))
    >>> png[:4]
    b'\\x89PNG'
    """
    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    png = buffer.getvalue()
    for extension in formats:
        path = folder / f"{name}.{extension}"
        if extension == "png":
            path.write_bytes(png)
        else:
            figure.savefig(path, format=extension, bbox_inches="tight")
    plt.close(figure)
    return png


def _panels(count, *, width=3.4, height=3.0, columns=None):
    plt = _pyplot()
    columns = columns or count
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for axis in axes.ravel()[count:]:
        axis.set_visible(False)
    return figure, axes.ravel()


def likert_bars(distribution, dimensions, systems):
    """Diverging stacked bars: share of each score per system, one panel per dimension.

    ``distribution`` has ``dimension, system, score, share``; the neutral score (3) is split
    around zero so disagreement extends left and agreement right.
    """
    figure, axes = _panels(len(dimensions), width=3.6, height=0.45 * len(systems) + 1.2)
    table = distribution.set_index(["dimension", "system", "score"])["share"]
    for axis, dimension in zip(axes, dimensions):
        for row, system in enumerate(systems):
            shares = [float(table.get((dimension, system, score), 0.0)) for score in range(1, 6)]
            left = -(shares[0] + shares[1] + shares[2] / 2)
            for score, share in enumerate(shares, start=1):
                axis.barh(
                    row,
                    share,
                    left=left,
                    color=LIKERT_COLORS[score - 1],
                    edgecolor="white",
                    height=0.7,
                    label=str(score) if row == 0 else None,
                )
                left += share
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_yticks(range(len(systems)), systems)
        axis.set_xlim(-1, 1)
        axis.set_xticks([-1, -0.5, 0, 0.5, 1], ["100%", "50%", "0", "50%", "100%"])
        axis.set_title(dimension)
        axis.invert_yaxis()
    axes[0].legend(
        title="score", ncol=5, fontsize=7, title_fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.12)
    )
    figure.tight_layout()
    return figure


def system_distributions(means, dimensions, systems):
    """Box plots of the item mean scores per system, one panel per dimension."""
    figure, axes = _panels(len(dimensions), width=3.2, height=3.0)
    for axis, dimension in zip(axes, dimensions):
        subset = means[means["dimension"] == dimension]
        data = [subset.loc[subset["system"] == system, "human"].to_numpy() for system in systems]
        axis.boxplot(data, tick_labels=systems, showmeans=True)
        axis.set_ylim(0.8, 5.2)
        axis.set_title(dimension)
        axis.tick_params(axis="x", rotation=45)
        axis.set_ylabel("item mean score")
    figure.tight_layout()
    return figure


def correlation_heatmap(table, dimensions, metrics, ceiling=None):
    """Metric × dimension heatmap of item-level Spearman ρ, each cell with its CI.

    ``table``: the correlation table; ``ceiling``: dimension -> human ceiling (shown in the
    column label).
    """
    plt = _pyplot()
    rows = table[(table["method"] == "spearman") & (table["level"] == "item")].set_index(
        ["metric", "dimension"]
    )
    values = np.full((len(metrics), len(dimensions)), np.nan)
    figure, axis = plt.subplots(figsize=(1.6 * len(dimensions) + 2.5, 0.55 * len(metrics) + 1.5))
    for i, metric in enumerate(metrics):
        for j, dimension in enumerate(dimensions):
            if (metric, dimension) not in rows.index:
                continue
            row = rows.loc[(metric, dimension)]
            values[i, j] = row["r"]
            if not np.isfinite(row["r"]):
                label = "not\ncomputable"
            elif not (np.isfinite(row["ci_low"]) and np.isfinite(row["ci_high"])):
                label = f"{row['r']:.2f}\n(no CI)"
            else:
                label = f"{row['r']:.2f}\n[{row['ci_low']:.2f}, {row['ci_high']:.2f}]"
            axis.text(j, i, label, ha="center", va="center", fontsize=7)
    image = axis.imshow(values, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    labels = [f"{d}\n(ceiling {ceiling[d]:.2f})" if ceiling and d in ceiling else d for d in dimensions]
    axis.set_xticks(range(len(dimensions)), labels, fontsize=8)
    axis.set_yticks(range(len(metrics)), metrics, fontsize=8)
    figure.colorbar(image, ax=axis, label="Spearman ρ (item level)")
    figure.tight_layout()
    return figure


def metric_scatter(joined, metrics, dimensions):
    """Item mean score against metric value for the leading metrics (rows) and dimensions (columns).

    ``joined``: ``item, dimension, human, metric, value``.
    """
    figure, axes = _panels(len(metrics) * len(dimensions), width=2.6, height=2.4, columns=len(dimensions))
    for index, (metric, dimension) in enumerate((m, d) for m in metrics for d in dimensions):
        axis = axes[index]
        subset = joined[(joined["metric"] == metric) & (joined["dimension"] == dimension)]
        axis.scatter(subset["value"], subset["human"], s=6, alpha=0.5)
        axis.set_title(f"{metric} · {dimension}", fontsize=8)
        axis.set_ylim(0.8, 5.2)
        axis.tick_params(labelsize=7)
    figure.tight_layout()
    return figure


def bland_altman(pairs, dimensions):
    """Judge against human: difference (judge − human mean) over their average, per dimension.

    ``pairs``: ``dimension, judge, human``; lines at the mean difference and ±1.96 SD.
    """
    figure, axes = _panels(len(dimensions), width=3.2, height=2.8)
    for axis, dimension in zip(axes, dimensions):
        subset = pairs[pairs["dimension"] == dimension]
        if subset.empty:
            axis.set_visible(False)
            continue
        average = (subset["judge"] + subset["human"]) / 2
        difference = subset["judge"] - subset["human"]
        bias = difference.mean()
        axis.scatter(average, difference, s=6, alpha=0.5)
        lines = [(bias, "-")]
        if len(difference) > 1:  # limits of agreement need an SD: not drawn for one item
            spread = 1.96 * difference.std(ddof=1)
            lines += [(bias - spread, "--"), (bias + spread, "--")]
        for level, style in lines:
            axis.axhline(level, color="black", linestyle=style, linewidth=0.8)
        axis.set_title(dimension)
        axis.set_xlabel("(judge + human) / 2")
        axis.set_ylabel("judge − human")
    figure.tight_layout()
    return figure


def ratings_vs_error(means, dimensions, error="mean_abs_error_db", correct="all_directions_correct"):
    """Item mean score against the advice's dB error, coloured by whether every direction is right."""
    figure, axes = _panels(len(dimensions), width=3.2, height=2.8)
    for axis, dimension in zip(axes, dimensions):
        subset = means[means["dimension"] == dimension]
        right = subset[correct].astype(bool)
        axis.scatter(
            subset.loc[right, error], subset.loc[right, "human"], s=6, alpha=0.6, label="all directions right"
        )
        axis.scatter(
            subset.loc[~right, error], subset.loc[~right, "human"], s=6, alpha=0.6, label="a direction wrong"
        )
        axis.set_title(dimension)
        axis.set_xlabel("mean absolute error (dB)")
        axis.set_ylim(0.8, 5.2)
    axes[0].set_ylabel("item mean score")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    return figure


def breakdown_heatmaps(breakdown, factor, dimensions):
    """Mean score by system × level of one factor (genre, flaw count, anchor), one panel per dimension."""
    subset = breakdown[breakdown["factor"] == factor]
    systems = sorted(subset["system"].unique())
    levels = sorted(subset["level"].astype(str).unique())
    figure, axes = _panels(len(dimensions), width=0.5 * len(levels) + 2.4, height=0.4 * len(systems) + 1.6)
    image = None
    for axis, dimension in zip(axes, dimensions):
        table = (
            subset[subset["dimension"] == dimension]
            .assign(level=lambda frame: frame["level"].astype(str))
            .pivot_table(index="system", columns="level", values="mean")
            .reindex(index=systems, columns=levels)
        )
        image = axis.imshow(table.to_numpy(dtype=float), cmap="viridis", vmin=1, vmax=5, aspect="auto")
        for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
            if np.isfinite(value):
                axis.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7, color="white")
        axis.set_xticks(range(len(levels)), levels, rotation=45, fontsize=7)
        axis.set_yticks(range(len(systems)), systems, fontsize=7)
        axis.set_title(f"{dimension} by {factor}", fontsize=9)
    if image is not None:
        figure.colorbar(image, ax=list(axes[: len(dimensions)]), shrink=0.8, label="mean score")
    return figure
