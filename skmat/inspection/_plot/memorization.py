"""Drawing of the memorization score: per-group distributions, one model or several
side by side."""

import numbers

import numpy as np
from sklearn.utils.validation import column_or_1d

from .._memorization import memorization_score


def _check_matplotlib(caller):
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib. You can install it with "
            "`pip install matplotlib`."
        ) from exc


class MemorizationDisplay:
    """Per-group distributions of the memorization score, for one or more models.

    Build it with :meth:`from_estimator` (computes the scores with
    :func:`memorization_score`) or :meth:`from_scores` (scores computed already);
    both plot it. Groups run along the x axis; within each group, one violin (or
    histogram) per model, side by side, with its mean marked. Made for comparing
    plain training with MAT on the groups of a shortcut benchmark: under ERM the
    minority groups sit near 1 (memorized), under MAT near 0.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,) or list of such arrays
        Memorization scores, one array per model, all on the same examples.
    groups : array-like of shape (n_samples,), default=None
        Group of every example (any sortable labels); ``None`` puts all the
        examples in one group.
    name : str or list of str, default=None
        Name of each model, for the legend.
    group_names : dict or list of str, default=None
        Label of each group on the x axis: a dict ``{group: label}``, or a list in
        the order of ``np.unique(groups)``; ``None`` uses ``str(group)``. The
        number of examples is added below each label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure that holds it.
    mean_scores_ : ndarray of shape (n_models, n_groups)
        Mean score of every model on every group (groups in the order of
        ``np.unique(groups)``).

    See Also
    --------
    memorization_score : The score.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmat.inspection import MemorizationDisplay
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(["majority", "minority"], [90, 10])
    >>> erm = np.where(groups == "minority", 0.8, 0.0) + 0.05 * rng.randn(100)
    >>> mat = 0.05 * rng.randn(100)
    >>> display = MemorizationDisplay.from_scores(
    ...     [erm, mat], groups=groups, name=["ERM", "MAT"]
    ... )
    >>> display.mean_scores_.round(1)
    array([[0. , 0.8],
           [0. , 0. ]])
    """

    def __init__(self, *, scores, groups=None, name=None, group_names=None):
        self.scores = scores
        self.groups = groups
        self.name = name
        self.group_names = group_names

    def _validated(self, name=None):
        """Scores as a list of arrays, names, unique groups and each one's labels."""
        scores = self.scores
        if isinstance(scores, np.ndarray) and scores.ndim == 1:
            scores = [scores]
        elif not isinstance(scores, (list, tuple)) or not len(scores):
            raise ValueError(
                "scores must be a 1-d array or a non-empty list of 1-d arrays; got "
                f"{type(scores).__name__}."
            )
        scores = [np.asarray(s, dtype=np.float64) for s in scores]
        n_samples = scores[0].shape[0] if scores[0].ndim == 1 else None
        for s in scores:
            if s.ndim != 1 or s.shape[0] != n_samples:
                raise ValueError(
                    "scores must be 1-d arrays of the same length, one per model; got "
                    f"shapes {[np.shape(s) for s in scores]}."
                )
            if not np.all(np.isfinite(s)):
                raise ValueError("scores must be finite.")
        groups = (
            np.zeros(n_samples, dtype=int)
            if self.groups is None
            else column_or_1d(self.groups)
        )
        if groups.shape[0] != n_samples:
            raise ValueError(
                f"groups must have one entry per example ({n_samples}); got "
                f"{groups.shape[0]}."
            )
        unique = np.unique(groups)

        name = self.name if name is None else name
        if name is None:
            name = [f"model {i + 1}" for i in range(len(scores))]
        elif isinstance(name, str):
            name = [name]
        name = list(name)
        if len(name) != len(scores):
            raise ValueError(
                f"name must give one name per model ({len(scores)}); got {name!r}."
            )

        group_names = self.group_names
        if group_names is None:
            labels = ["all" if self.groups is None else str(g) for g in unique]
        elif isinstance(group_names, dict):
            missing = [g for g in unique.tolist() if g not in group_names]
            if missing:
                raise ValueError(
                    f"group_names has no label for the groups {missing}; it must map "
                    f"every group in {unique.tolist()}."
                )
            labels = [str(group_names[g]) for g in unique.tolist()]
        else:
            labels = [str(label) for label in group_names]
            if len(labels) != len(unique):
                raise ValueError(
                    f"group_names must give one label per group ({len(unique)}: "
                    f"{unique.tolist()}, in this order); got {len(labels)}."
                )
        return scores, groups, unique, name, labels

    def plot(
        self, *, ax=None, kind="violin", name=None, colors=None, bins=20, **kwargs
    ):
        """Plot the per-group distributions of the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` makes a new figure.
        kind : {"violin", "hist"}, default="violin"
            A violin (kernel density) or a histogram, drawn sideways, per model and
            group. Each is scaled to the width of its slot. The y axis runs from
            the lowest score (or -0.1) to 1.
        name : str or list of str, default=None
            Names of the models for the legend, overriding those given to the
            display.
        colors : list of matplotlib colours, default=None
            One per model; ``None`` uses matplotlib's colour cycle.
        bins : int, default=20
            Number of bins over [-1, 1] of ``kind="hist"``.
        **kwargs : dict
            Matplotlib properties of the violins' bodies or the histograms' bars
            (for instance ``alpha``, ``edgecolor``, ``linewidth``); the default
            colours are ``colors`` and ``alpha`` is 0.6.

        Returns
        -------
        display : MemorizationDisplay
            Object that stores the computed values.
        """
        _check_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        if kind not in ("violin", "hist"):
            raise ValueError(f"kind must be 'violin' or 'hist'; got {kind!r}.")
        if not isinstance(bins, numbers.Integral) or bins < 1:
            raise ValueError(f"bins must be a positive integer; got {bins!r}.")
        scores, groups, unique, names, labels = self._validated(name)
        n_models = len(scores)
        if colors is None:
            cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
            colors = [cycle[i % len(cycle)] for i in range(n_models)]
        elif len(colors) != n_models:
            raise ValueError(
                f"colors must give one colour per model ({n_models}); got {colors!r}."
            )
        new_figure = ax is None
        if new_figure:
            _, ax = plt.subplots(
                figsize=(1.2 + 1.4 * len(unique) * max(1, n_models / 2), 4.5)
            )

        style = {"alpha": 0.6, **kwargs}
        slot = 0.8 / n_models
        width = 0.9 * slot
        edges = np.linspace(-1, 1, bins + 1)
        means = np.zeros((n_models, len(unique)))
        for g, group in enumerate(unique):
            members = groups == group
            for m, model_scores in enumerate(scores):
                values = model_scores[members]
                means[m, g] = values.mean()
                center = g - 0.4 + slot * (m + 0.5)
                artist = {"facecolor": colors[m], "edgecolor": colors[m], **style}
                if kind == "violin":
                    _violin(ax, values, center, width, artist)
                else:
                    _sideways_hist(ax, values, center, width, edges, artist)
                ax.plot(
                    center,
                    means[m, g],
                    marker="D",
                    markersize=5,
                    color="black",
                    markerfacecolor="white",
                    zorder=3,
                )
        counts = [int(np.sum(groups == group)) for group in unique]
        ax.set_xticks(np.arange(len(unique)))
        ax.set_xticklabels([f"{label}\n(n={n})" for label, n in zip(labels, counts)])
        ax.set_xlim(-0.5, len(unique) - 0.5)
        ax.axhline(0, color="grey", linewidth=0.8, linestyle="--", zorder=0)
        # up to 1 (fully memorized) at least; down to the lowest score, in tenths
        low = min(-0.1, np.floor(10 * min(s.min() for s in scores)) / 10)
        high = max(1.0, max(s.max() for s in scores))
        ax.set_ylim(low - 0.05, high + 0.05)
        ax.set_xlabel("group")
        ax.set_ylabel(
            "memorization score\np(label | trained on it) - p(label | held out)"
        )
        ax.set_title("Memorization score per group")
        handles = [
            Patch(facecolor=colors[m], alpha=style["alpha"], label=names[m])
            for m in range(n_models)
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker="D",
                linestyle="none",
                color="black",
                markerfacecolor="white",
                label="mean",
            )
        )
        ax.legend(handles=handles, loc="best", fontsize="small")
        if new_figure:
            ax.figure.tight_layout()
        self.ax_ = ax
        self.figure_ = ax.figure
        self.mean_scores_ = means
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        groups=None,
        procedure="estimator",
        name=None,
        group_names=None,
        cv=None,
        in_sample="folds",
        sample_weight=None,
        params=None,
        n_jobs=None,
        random_state=None,
        kind="violin",
        ax=None,
    ):
        """Compute the memorization scores of one or more models and plot them.

        Parameters
        ----------
        estimator : estimator or list of estimators
            Classifiers with ``fit`` and ``predict_proba``, each scored with
            :func:`memorization_score` on the same ``(X, y)``.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        groups : array-like of shape (n_samples,), default=None
            Group of every example, for the plot (not given to the splitter: use
            :func:`memorization_score` and :meth:`from_scores` for a splitter that
            takes groups).
        procedure : {"estimator", "erm"} or list of them, default="estimator"
            The procedure each score describes (see :func:`memorization_score`);
            a list gives one per estimator. ``estimator=[mat, mat],
            procedure=["erm", "estimator"]`` compares plain training of a
            MATClassifier's net with MAT itself.
        name : str or list of str, default=None
            Legend names; ``None`` uses ``"ERM"`` for ``procedure="erm"`` and the
            estimator's class name otherwise.
        group_names : dict or list of str, default=None
            Labels of the groups (see the class).
        cv, in_sample, sample_weight, params, n_jobs, random_state
            Passed to :func:`memorization_score` for every estimator.
        kind : {"violin", "hist"}, default="violin"
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : MemorizationDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        estimators = (
            list(estimator) if isinstance(estimator, (list, tuple)) else [estimator]
        )
        if isinstance(procedure, str):
            procedures = [procedure] * len(estimators)
        else:
            procedures = list(procedure)
            if len(procedures) != len(estimators):
                raise ValueError(
                    f"procedure must be a string or one per estimator "
                    f"({len(estimators)}); got {procedure!r}."
                )
        if name is None:
            name = [
                "ERM" if p == "erm" else type(e).__name__
                for e, p in zip(estimators, procedures)
            ]
            for i, n in enumerate(name):
                if name.count(n) > 1:
                    name[i] = f"{n} ({i + 1})"
        scores = [
            memorization_score(
                e,
                X,
                y,
                procedure=p,
                cv=cv,
                in_sample=in_sample,
                sample_weight=sample_weight,
                params=params,
                n_jobs=n_jobs,
                random_state=random_state,
            )
            for e, p in zip(estimators, procedures)
        ]
        return cls.from_scores(
            scores, groups=groups, name=name, group_names=group_names, kind=kind, ax=ax
        )

    @classmethod
    def from_scores(
        cls, scores, *, groups=None, name=None, group_names=None, kind="violin", ax=None
    ):
        """Plot memorization scores computed already.

        Parameters
        ----------
        scores : ndarray of shape (n_samples,) or list of such arrays
            One array per model, for instance from :func:`memorization_score`.
        groups : array-like of shape (n_samples,), default=None
        name : str or list of str, default=None
        group_names : dict or list of str, default=None
        kind : {"violin", "hist"}, default="violin"
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : MemorizationDisplay
        """
        _check_matplotlib(f"{cls.__name__}.from_scores")
        display = cls(scores=scores, groups=groups, name=name, group_names=group_names)
        return display.plot(ax=ax, kind=kind)


def _violin(ax, values, center, width, artist):
    """A violin of ``values`` at ``center``; ``artist``: its body's properties."""
    if len(values) < 2 or np.ptp(values) < 1e-9:
        # a kernel density needs spread: draw the value as a bar across the slot
        ax.hlines(
            values.mean(),
            center - width / 2,
            center + width / 2,
            color=artist["facecolor"],
        )
        return
    parts = ax.violinplot([values], positions=[center], widths=width, showextrema=False)
    for body in parts["bodies"]:
        body.set(**artist)


def _sideways_hist(ax, values, center, width, edges, artist):
    """A histogram of ``values`` drawn sideways, centred at ``center``."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    if counts.max() == 0:
        return
    filled = counts > 0
    lengths = counts[filled] / counts.max() * width
    ax.barh(
        ((edges[:-1] + edges[1:]) / 2)[filled],
        lengths,
        height=np.diff(edges)[filled],
        left=center - lengths / 2,
        **artist,
    )
