"""MAT against ERM and the group-robustness baselines, on shortcut data, measured.

Run ``python -m skmat.benchmarks --quick`` (a few minutes on 2 cores) or
``python -m skmat.benchmarks`` (the full table, under an hour). For every task and
seed it trains, on the same net and data:

* **ERM**: the net as given;
* **MAT**: :class:`~skmat.MATClassifier` with 5-fold held-out predictions;
* **MAT (XRM)**: MAT with XRM's twins for the held-out predictions;
* **JTT**: :class:`~skmat.JTTClassifier`, error set from the same 5-fold held-out
  predictions as MAT;
* **GroupDRO**: :class:`~skmat.GroupDROClassifier` with the true training groups;
* **Reweighting**: :class:`~skmat.GroupBalancedClassifier` with the true training
  groups.

Hyper-parameters are chosen on a validation set drawn like the training set (never
on the test set), each by its method's own rule: MAT's ``shift_strength`` by
worst-group accuracy on groups *inferred* by the fitted model
(:meth:`~skmat.MATClassifier.infer_groups`, no group labels); JTT's ``upweight`` and
Group DRO's ``eta`` by worst-group accuracy on the *true* validation groups (the rule
of both papers). ERM and reweighting have nothing to choose. The held-out phase of
MAT (and JTT) runs once per seed; the grid's final fits reuse its predictions.

Reported per task and method (mean +- std over seeds): average and worst-group test
accuracy, and the fit time of the chosen configuration (held-out phase included)
relative to ERM's on the same seed. Results go to ``results.csv`` (one row per task,
method and seed), ``results.md`` (the tables) and ``results.png`` under
``--output-dir``.

``--suite safety`` (not part of ``--suite all``) runs every real dataset at its
natural correlation and subsampled to label-attribute agreement 0.9, 0.95 and 0.99,
plus a head on frozen text embeddings, with ERM, MAT at its defaults, JTT, Group DRO,
reweighting and the oracle only; its tasks, constructions and group sizes were
committed before MAT was run on them (``skmat.benchmarks._safety``; ``--describe``
prints the group sizes without training).
"""

# The benchmark is a command, not an API: these names are re-exported (``X as X``)
# for the scripts under benchmarks/ and the tests, without an ``__all__``.
from ._methods import GRIDS as GRIDS
from ._methods import METHODS as METHODS
from ._methods import SELECTION as SELECTION
from ._nets import MLP as MLP
from ._nets import Linear as Linear
from ._nets import figure1_net as figure1_net
from ._report import markdown as markdown
from ._report import summarize as summarize
from ._run import main as main
from ._run import make_tasks as make_tasks
from ._run import run_task as run_task
from ._synthetic import figure1_split as figure1_split
from ._task import Task as Task
