"""spaCy components for customer-service posts, one module per component.

Each component is registered with ``@Language.factory`` when its module is imported (importing this package
imports them all) and keeps its rules in data files, one pack per language: ``nlp/rules/<lang>/`` holds
``sentiment.yml``, ``intent.yml``, ``pii.yml`` and the complaint ``taxonomy/``, so analysts change rules without
touching code and a second language is a folder. Results are stored on ``Doc._`` extensions;
:mod:`nlp.enrich` reads them into ``enriched.post_nlp``.

- ``language``: non-English posts, from spaCy's stop-word lists;
- ``pii``: e-mails, cards, phones and references redacted;
- ``sentiment``: VADER plus customer-service cues;
- ``categories``: complaint categories per industry taxonomy;
- ``intent``: intent, escalation flags, urgency;
- ``linear``: trained linear heads over word and character n-grams and the rules' reading (``nlp train``);
- ``blend``: trained classifiers blended with the rules.
"""

from nlp.components import blend, categories, intent, language, linear, pii, sentiment  # noqa: F401  (registers factories)
from nlp.components.base import NLP_DIR, RULES_DIR, TAXONOMY_DIR, state
from nlp.components.blend import CATEGORY_PREFIX, SENTIMENT_PREFIX

__all__ = ["CATEGORY_PREFIX", "NLP_DIR", "RULES_DIR", "SENTIMENT_PREFIX", "TAXONOMY_DIR", "state"]
