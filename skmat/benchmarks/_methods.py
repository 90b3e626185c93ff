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
    "Oracle",
]

#: The held-out strategy of each tuned MAT row.
MAT_HELD_OUT = {"MAT (k-fold)": "kfold", "MAT (XRM)": "xrm"}

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
    "MAT (k-fold)": "inferred groups",
    "MAT (XRM)": "inferred groups",
    "JTT": "true groups",
    "GroupDRO": "true groups",
    "Reweighting": "none",
    "Oracle": "none",
}
