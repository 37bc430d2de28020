"""The ground floor: what every other part of socialcx stands on, importing nothing above it.

- ``settings``: every setting, read from the environment (``SOCIALCX_*``), the sources' own included;
- ``sources``: the source registry, the one list of sources everything else reads;
- ``warehouse``: the DuckDB connection (locks, damage checks, transactions, identifier quoting);
- ``ddl``: every table the pipeline owns outside dbt;
- ``pii``: what personal data looks like (NLP redaction and log scrubbing share it);
- ``logs``: secret and PII scrubbing of logs and errors;
- ``erasure``: the register of forgotten people and posts every extract consults;
- ``failpoints``: named crash points for the recovery tests.

``extractors/``, ``nlp/`` and ``expectations/`` may import from here and nowhere else in ``socialcx``
(tests/socialcx/test_layers.py checks it).
"""
