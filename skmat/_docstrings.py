"""Parameter and attribute descriptions shared by skmat's estimators, and the
decorator that fills them into a docstring (failing loudly on a missing key, as
imbalanced-learn's ``Substitution`` does)."""

import re

_DOCS = {
    "estimator": """\
    estimator : skorch NeuralNetClassifier, torch.nn.Module subclass or instance
        The net, configured as the user wants it (module, optimizer, lr, epochs,
        callbacks, device, ...); it is never fitted in place. The criterion must be
        ``CrossEntropyLoss`` (the module returns logits) or ``NLLLoss`` (the module
        returns probabilities), with any class weights, reduction (``"mean"`` or
        ``"sum"``) and ``ignore_index``: per-example weights (``sample_weight``,
        and the weights a method gives its final net) combine with them as torch's
        weighted mean does, ``sum_i w_i loss_i / sum_i w_i class_weight[y_i]``, so
        ``sample_weight`` of ones trains the net that no ``sample_weight`` trains.
        A bare module is wrapped in a ``NeuralNetClassifier``
        with CrossEntropyLoss and the training defaults of scikit-learn's
        MLPClassifier: Adam (lr=1e-3), 200 epochs, shuffled batches of 200, no
        internal validation split. A module class whose constructor takes
        ``n_features_in`` and/or ``n_classes`` gets them from the data unless they are
        set (``module__n_classes=...``; ``n_features_in`` only for 2-D tables). A
        module *instance* is deep-copied before every fit, so each held-out model
        and the final model start from its weights. Every fit builds its nets
        afresh: the net's ``warm_start`` has no effect across fits of this
        estimator (to train the final net further, call ``estimator_.partial_fit``
        with encoded labels).""",
    "cv": """\
    cv : int, cross-validation generator or iterable, default=5
        Folds of the held-out phase; anything :func:`~sklearn.model_selection.check_cv`
        accepts. An int gives stratified, shuffled folds seeded from ``random_state``,
        which also seeds a copy of a splitter that shuffles without a
        ``random_state`` of its own.
        The test folds must partition the training set, and no fold may train on an
        example it holds out. The baselines keep the folds of their benchmarks (5,
        ``held_out="kfold"``); MATClassifier's default, XRM's twins, was measured for
        MAT only (user guide, "Why XRM's twins are the default"). Unused with
        ``held_out="xrm"`` (the twins train on random halves): a ``cv`` other than
        the default then gives a UserWarning.""",
    "held_out_estimator": """\
    held_out_estimator : estimator, torch.nn.Module subclass or instance, default=None
        Used for the held-out phase only; ``None`` means ``estimator``. Any
        scikit-learn classifier with ``predict_proba`` works here (with
        ``held_out='kfold'``).""",
    "held_out": """\
    held_out : {"auto", "xrm", "kfold"}, default="auto"
        How the held-out predictions are made. ``"xrm"``: XRM's two twin nets
        (Pezeshki et al., ICML 2024; the paper's choice, Section 3), each trained on
        a random half with a class-balanced loss (which replaces the criterion's
        class weights: the twins train as without them) and label flipping (after every
        step, an example's working label becomes the other twin's prediction with
        probability ``(p_max - 1/K) K / (K - 1)``); each example's held-out
        prediction is the twin that did not train on it. ``"kfold"``: ``cv`` folds,
        each predicted by a net trained on the others. ``"auto"``: ``"kfold"`` when
        ``cv`` is set or ``held_out_estimator`` is a scikit-learn estimator, else
        ``"xrm"``: XRM's twins find the minority where 5-fold nets learn part of it
        and miss it, at less cost (user guide, "Held-out strategies").
        :meth:`infer_groups` on new data counts an example as a mistake when any
        held-out model gets it wrong (XRM's rule: either twin).""",
    "fold_training": """\
    fold_training : {"auto", "batched", "sequential"}, default="auto"
        How the held-out nets (folds or XRM twins) train. ``"batched"``: all together
        as one stacked model (``torch.func``), which gives the same nets as training
        them one by one (up to float rounding) at a fraction of the cost for small
        modules; the net must allow it (no BatchNorm, Dropout or other buffers or
        randomness in the module, an element-wise optimizer such as SGD or Adam, no
        callbacks or ``train_split``, a plain loader, ``CrossEntropyLoss`` or
        ``NLLLoss``), otherwise fit
        raises an error that says why. ``"sequential"``: one by one with skorch,
        ``n_jobs`` at a time (XRM's twins: two skorch nets stepping in turn, with
        every callback). ``"auto"``: batched when the net allows it and it pays
        (folds: always on a GPU, on the CPU for modules with at most 50,000
        parameters; twins: whenever the net allows it), else one by one, saying
        why at ``verbose >= 1``. A scikit-learn ``held_out_estimator`` always
        trains one by one. Where several settings are searched for the data
        (``MATClassifier(shift_strength="auto")``), the nets of the search train
        the same way, with the folds' rule.""",
    "early_stopping": """\
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training set from the final fit,
        score the final net on it after every epoch by worst-group accuracy, stop when
        the score has not improved for ``n_iter_no_change`` epochs, and keep the
        weights of the best epoch (ties go to the higher average validation
        accuracy, then to the later epoch). The validation groups are the ``groups``
        passed to ``fit`` when there are any, otherwise the inferred groups
        (:meth:`infer_groups`: label and whether the held-out models got the example
        wrong). The held-out phase still uses the whole training set. Where classes
        overlap, the inferred minority is mostly label noise that no model predicts,
        so its accuracy stays near 0 and the average accuracy decides.
    validation_fraction : float, default=0.1
        Fraction of the training set held out for early stopping, in (0, 1); the
        split is stratified by group (by label when a group is too small).
    n_iter_no_change : int or None, default=10
        Epochs without improvement before stopping; ``None`` trains for all the
        net's epochs and keeps the best one.""",
    "runtime": """\
    n_jobs : int, default=None
        Number of folds trained in parallel (joblib) when they train one by one.
        The worker processes pickle the nets, so the module class (and any
        callback or criterion class of your own) must be importable: one defined
        in ``__main__`` (a script, a notebook) fails with a PicklingError that
        says so; define it in a module, or leave ``n_jobs=None``.
    verbose : int, default=0
        0: silent. 1: a progress bar per phase on stderr (the held-out phase, the
        final net: epochs done, time left, training loss; tqdm's widget in a
        notebook; plain lines, one per tenth of the phase, where stderr is not a
        terminal or the fit runs in a joblib worker), and a line per phase and per
        held-out model with its time on stdout. >= 2: also the nets' epoch tables
        (skorch's, and one line per epoch of each net trained in a stacked model:
        the held-out nets and the nets of the search for a setting).
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the torch RNG of every net (inside
        ``torch.random.fork_rng``: the global torch RNG is left as it was; it draws
        the shuffles, initial weights and dropout masks), the validation split of
        a net's ``train_split`` (a skorch ``ValidSplit`` with a float ``cv`` or a
        shuffling splitter and no ``random_state`` of its own gets one) and the
        ``random_state`` parameters left at None of a scikit-learn
        ``held_out_estimator``. An int is used as the nets' torch seed as it is.
        Randomness that skmat cannot see, such as a ``train_split`` function of
        your own or numpy's global RNG in a Dataset's transforms, is yours to
        seed.""",
    "common_attributes": """\
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
        Only when ``X`` is a 2-D table.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` has string column names.
    estimator_ : skorch NeuralNetClassifier
        The final net. It works on class indices: its ``predict`` returns codes
        ``0 .. n_classes - 1`` (positions in ``classes_``; this estimator's
        ``predict`` returns the labels), its ``predict_proba`` columns are in the
        order of ``classes_``, and its ``fit`` and ``partial_fit`` take encoded
        labels (``np.searchsorted(classes_, y)``).
    fit_times_ : dict
        Seconds spent in each phase of the last fit: ``"validation"`` (checking the
        data and the net), ``"held_out"`` (0 without a held-out phase),
        ``"selection"`` (the candidate final nets of a parameter chosen for the
        data; 0 without), ``"training_extras"``, ``"final"`` (the final net, early stopping
        included) and their sum ``"total"``; ``"held_out_models"`` lists each
        held-out model's fit time when they trained one by one (None when they
        trained together).""",
    "held_out_attributes": """\
    held_out_estimators_ : list of estimators
        The fitted fold models, or XRM's two twins (empty when ``held_out_proba``
        was passed to ``fit``). Nets are kept for prediction only: on the CPU,
        without optimizer state (:meth:`infer_groups` runs them on the final net's
        device).
    held_out_estimators_samples_ : list of ndarray
        The training examples (row indices) each held-out estimator was fitted on,
        in the order of ``held_out_estimators_``.
    held_out_proba_ : ndarray of shape (n_samples, n_classes)
        Held-out class probabilities of the training examples.
    held_out_strategy_ : HeldOutStrategy
        The held-out phase that ran, as values from closed sets: ``kind``
        (``"kfold"``, ``"xrm"``, ``"in_sample"``, or ``"given"`` with
        ``held_out_proba``), ``engine`` (``"stacked"``, ``"one_by_one"``, or None
        when no model trained), ``n_models``, and ``reason``: why the nets trained
        one by one, in words. ``str()`` gives it all in one line.
    inferred_groups_ : ndarray of shape (n_samples,)
        Group of every training example inferred from its held-out prediction:
        ``2 * class_index + misclassified`` (see :meth:`infer_groups`).""",
    "early_stopping_attributes": """\
    validation_indices_ : ndarray
        Training examples held out of the final fit for early stopping (only with
        ``early_stopping=True``).
    validation_scores_ : ndarray of shape (n_epochs,)
        Validation worst-group accuracy after every epoch of the final fit (only
        with ``early_stopping=True``).
    best_epoch_ : int
        Epoch (1-based) whose weights the final net kept (only with
        ``early_stopping=True``).""",
}

_MARKER = re.compile(r"^ *\{(\w+)\}$", re.M)


def fill_docstring(**own):
    """Class decorator: replace each line ``{name}`` of the docstring by the shared
    description ``name`` (or the one given as a keyword); a marker without a
    description is an error."""

    def decorate(cls):
        texts = {**_DOCS, **own}

        def replace(match):
            name = match.group(1)
            if name not in texts:
                raise KeyError(f"{cls.__name__}'s docstring has no text for {{{name}}}")
            return texts[name]

        cls.__doc__ = _MARKER.sub(replace, cls.__doc__)
        return cls

    return decorate
