"""Embedders: one interface from token lists to a stack of representation layers.

- :mod:`tasks.embedders.base`: the interface, :class:`~tasks.embedders.base.Embedder`.
- :mod:`tasks.embedders.elmo`: the frozen biLM.
- :mod:`tasks.embedders.static`: static word vectors and the random-vector floor.
- :mod:`tasks.embedders.concat`: embedders side by side (``glove+elmo``).
- :mod:`tasks.embedders.vector_files`: reading word-vector files and the GloVe package.

Adding an embedder: subclass ``Embedder`` (``embed``, ``num_layers``, ``dim``,
``fingerprint``) and point a ``conf/embedder/<name>.yaml`` at it with ``_target_``.
Training word2vec and fastText vectors lives apart, in :mod:`tasks.vector_training`.
"""
