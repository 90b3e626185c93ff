"""The benchmark's methods, in the order of its tables, and the hyper-parameters
each chooses (on which validation groups)."""

METHODS = [
    "ERM",
    "MAT (defaults)",
    "MAT (k-fold)",
    "MAT (XRM)",
    "JTT",
    "GroupDRO",
    "Reweighting",
    "Reweighting (inferred)",
    "Oracle",
]

#: The held-out strategy of each tuned MAT row.
MAT_HELD_OUT = {"MAT (k-fold)": "kfold", "MAT (XRM)": "xrm"}

#: Every setting of the tuned MAT rows besides the strength they choose, spelled
#: out so that a change of MATClassifier's defaults does not change what they
#: measure. "MAT (defaults)" alone measures the defaults, those of the commit that
#: ran (each results directory's PROVENANCE.json names it).
_MAT_COMMON = dict(
    held_out_epochs=None, temperature=0.1, calibrate=True, early_stopping=False
)
MAT_SETTINGS = {
    "MAT (k-fold)": dict(held_out="kfold", cv=5, **_MAT_COMMON),
    "MAT (XRM)": dict(held_out="xrm", cv=None, **_MAT_COMMON),
}

#: The folds of JTT's own held-out phase, when it does not share MAT (k-fold)'s.
JTT_CV = 5

#: Hyper-parameter grid of each method, and which validation groups choose in it.
GRIDS = {
    "MAT (k-fold)": ("shift_strength", [0.5, 1.0, 2.0]),
    "MAT (XRM)": ("shift_strength", [0.5, 1.0, 2.0]),
    "JTT": ("upweight", [5.0, 20.0, 50.0]),
    "GroupDRO": ("eta", [0.01, 0.1, 1.0]),
}
SELECTION = {
    "ERM": "none",
    "MAT (defaults)": "none",
    "MAT (k-fold)": "crossfit_group_scorer",
    "MAT (XRM)": "crossfit_group_scorer",
    "JTT": "true groups",
    "GroupDRO": "true groups",
    "Reweighting": "none",
    "Reweighting (inferred)": "none",
    "Oracle": "none",
}

#: The label-free group baseline: group reweighting on the groups XRM's twins
#: infer (label x held-out mistake), the recipe of Pezeshki et al. (ICML 2024) with
#: reweighting in place of Group DRO; every setting spelled out.
INFERRED_REWEIGHTING = dict(held_out="xrm", cv=5, held_out_estimator=None)
