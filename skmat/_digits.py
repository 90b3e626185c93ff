"""scikit-learn's digits, split once into the training and test images of the
coloured-digits data (:func:`skmat.datasets.make_colored_digits`) and of the
benchmark's frozen feature extractor."""

import numpy as np

#: The seed of the fixed train/test split of the digits.
DIGITS_SPLIT_SEED = 0


def digits_subset(subset, test_size):
    """scikit-learn's digits and the row indices of ``subset`` of their fixed split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    indices = np.arange(len(digits.target))
    if subset != "all":
        train, test = train_test_split(
            indices,
            test_size=test_size,
            stratify=digits.target,
            random_state=DIGITS_SPLIT_SEED,
        )
        indices = np.sort(train if subset == "train" else test)
    return digits, indices
