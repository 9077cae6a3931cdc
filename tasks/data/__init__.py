"""Task data: reading files and the hub into examples, tag schemes and label sets.

- ``files``: :class:`~tasks.data.files.DataFormatError`; opening plain, gzip and zip files
  (told by their first bytes), numbered lines and blank-line blocks, ``max_samples`` checks.
- ``examples``: ``TaggedSentence`` (one tag per token) and ``LabeledSentence`` (one label).
- One reader per format: ``conll`` (CoNLL-2003/2000, WNUT-17 columns), ``conllu``
  (Universal Dependencies), ``sst`` (SST lines), ``squad`` (SQuAD v1.1 JSON, ``SquadExample``,
  ``split_by_article``).
- ``hub``: ``load_hub`` and the row converters for Hugging Face datasets (``datasets`` is
  imported only when a hub split is loaded).
- ``schemes``: ``split_tag`` and the IOB1 / IOB2 / BIOES conversions.
- ``labels``: ``LabelVocabulary``, the training split's labels and the dev/test check.
- ``source``: ``SPLITS`` and ``read_splits``: local files when they all exist, else the hub.

Import from the modules; this package file imports nothing.
"""
