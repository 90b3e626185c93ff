"""Tables of benchmark results, computed from the results files at build time.

A page shows a results table with the ``results-table`` directive instead of a
retyped one, so that the figures it shows are those of the file, and the file's
provenance (``PROVENANCE.json`` in its directory: date, commit, machine, command,
configuration) is printed under it::

    .. results-table:: benchmarks/results/defaults_shift_strength.csv
       :columns: {method} {shift_strength}
       :where: temperature=|0.1; held_out_epochs=|1.0
       :stat: mean
       :digits: 2

* the argument: a CSV file, relative to the repository root;
* ``:rows:`` the column whose values make the rows (``task``);
* ``:columns:`` a format string over a row's fields whose value names the table's
  column (``{method}``; spaces are collapsed, so an empty field vanishes);
* ``:where:`` ``field=value|value; field=value``: keep only those rows;
* ``:value:`` the measured field (``test_wga``);
* ``:stat:`` ``mean``, ``mean_std`` (mean ± std over the seeds), or ``delta``
  (the paired difference to the ``:baseline:`` column, seed by seed, mean ± std);
* ``:baseline:`` the column of ``delta`` (``ERM``), left out of the table;
* ``:digits:`` decimals (3).

The same module reads the provenance for tests/test_docs.py.
"""

import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: What every results file's provenance entry must state.
PROVENANCE_FIELDS = ("date", "commit", "machine", "command", "configuration")


def provenance(path):
    """The provenance entry of the results file ``path`` (relative to the
    repository root), from ``PROVENANCE.json`` in its directory; None if missing."""
    sidecar = ROOT / Path(path).parent / "PROVENANCE.json"
    if not sidecar.is_file():
        return None
    return json.loads(sidecar.read_text(encoding="utf-8")).get(Path(path).name)


def _collapse(text):
    return " ".join(text.split())


def _where(spec):
    conditions = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(";"))):
        field, _, values = part.partition("=")
        conditions[field.strip()] = set(v.strip() for v in values.split("|"))
    return conditions


def table_cells(
    path,
    rows="task",
    columns="{method}",
    where=None,
    value="test_wga",
    stat="mean",
    baseline="ERM",
    digits=3,
):
    """Header and body of the table (lists of strings)."""
    with open(ROOT / path, newline="", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    conditions = _where(where)
    records = [r for r in records if all(r[k] in v for k, v in conditions.items())]
    row_keys, column_keys = [], []
    values = defaultdict(dict)  # (row, column) -> {seed: value}
    for r in records:
        row, column = r[rows], _collapse(columns.format(**r))
        if row not in row_keys:
            row_keys.append(row)
        if column not in column_keys:
            column_keys.append(column)
        values[row, column][r.get("seed", len(values[row, column]))] = float(r[value])

    def cell(row, column):
        by_seed = values.get((row, column))
        if not by_seed:
            return ""
        if stat == "delta":
            base = values[row, baseline]
            diff = [by_seed[s] - base[s] for s in by_seed]
            return f"{np.mean(diff):+.{digits}f} ± {np.std(diff):.{digits}f}"
        mean = np.mean(list(by_seed.values()))
        if stat == "mean_std":
            return f"{mean:.{digits}f} ± {np.std(list(by_seed.values())):.{digits}f}"
        return f"{mean:.{digits}f}"

    if stat == "delta":
        column_keys = [c for c in column_keys if c != baseline]
    header = [rows] + column_keys
    body = [[row] + [cell(row, c) for c in column_keys] for row in row_keys]
    return header, body


def provenance_sentence(path):
    entry = provenance(path)
    if entry is None:
        raise ValueError(f"{path} has no entry in its directory's PROVENANCE.json")
    missing = [k for k in PROVENANCE_FIELDS if not entry.get(k)]
    if missing:
        raise ValueError(f"the provenance of {path} lacks {missing}")
    return (
        f"Computed at build time from ``{path}``, written by ``{entry['command']}`` "
        f"on {entry['date']} (added in {entry['commit']}; code: "
        f"{entry.get('code', entry['commit'])}; {entry['machine']}). "
        f"Configuration: {entry['configuration']}."
    )


def results_table_directive():
    """The ``results-table`` directive class; docutils is imported here, so that the
    tests read the provenance without the documentation's requirements."""
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives
    from docutils.statemachine import StringList

    class ResultsTable(Directive):
        required_arguments = 1
        has_content = True
        option_spec = {
            "rows": directives.unchanged,
            "columns": directives.unchanged,
            "where": directives.unchanged,
            "value": directives.unchanged,
            "stat": lambda a: directives.choice(a, ("mean", "mean_std", "delta")),
            "baseline": directives.unchanged,
            "digits": directives.nonnegative_int,
        }

        def run(self):
            path = self.arguments[0]
            env = self.state.document.settings.env
            env.note_dependency(str(ROOT / path))
            env.note_dependency(str(ROOT / Path(path).parent / "PROVENANCE.json"))
            try:
                header, body = table_cells(path, **self.options)
                sentence = provenance_sentence(path)
            except (OSError, KeyError, ValueError) as error:
                raise self.error(f"results-table {path}: {error}") from error
            lines = [
                ".. list-table::",
                "   :header-rows: 1",
                "   :class: skmat-nowrap",
                "",
            ]
            for row in [header] + body:
                lines.append(f"   * - {row[0]}")
                lines.extend(f"     - {c}" if c else "     -" for c in row[1:])
            lines += ["", sentence]
            container = nodes.container(classes=["skmat-results"])
            self.state.nested_parse(StringList(lines, source=path), 0, container)
            if self.content:
                self.state.nested_parse(self.content, self.content_offset, container)
            return [container]

    return ResultsTable


def setup(app):
    app.add_directive("results-table", results_table_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}
