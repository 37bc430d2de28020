"""Building and loading the socialcx spaCy pipeline."""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

import nlp.components  # noqa: F401  (registers the factories)
from nlp.components.base import DEFAULT_LANGUAGE, NLP_DIR, RULES_DIR, TAXONOMY_DIR

# Bump when a rule, taxonomy or component changes what the pipeline says: posts are re-enriched.
PIPELINE_VERSION = "rules-0.4.0"  # 0.4: cue families (negation scope, sarcasm markers, outcome words, emoji, intensity); precision-first taxonomies with weak cues; Spanish pack
CONFIG_PATH = NLP_DIR / "config.cfg"


def load_pipeline(model: str = "default") -> tuple[Language, str]:
    """The pipeline and its version. ``model`` is ``default`` or a directory written by ``socialcx nlp train``."""
    if model in ("", "default"):
        config = spacy.util.load_config(CONFIG_PATH, overrides={"paths.rules": str(RULES_DIR / DEFAULT_LANGUAGE),
                                                                "paths.taxonomy": str(TAXONOMY_DIR)})
        nlp = spacy.util.load_model_from_config(config, auto_fill=True)
        nlp.meta["name"], nlp.meta["version"] = "socialcx_default", PIPELINE_VERSION
        return nlp, PIPELINE_VERSION
    path = Path(model)
    if not (path / "config.cfg").exists():
        raise FileNotFoundError(f"SOCIALCX_NLP_MODEL={model} is not a spaCy model directory (no config.cfg); "
                                "train one with `socialcx nlp train` or unset the variable for the default pipeline")
    nlp = spacy.load(path)
    return nlp, _model_version(nlp.meta, path)


def _model_version(meta: dict, path: Path) -> str:
    """A trained model's version as enrichment keys its rows: ``<name>-<version>`` from its meta."""
    return f"{meta.get('name', path.name)}-{meta.get('version', '0')}"


def pipeline_version(model: str = "default") -> str:
    """The version :func:`load_pipeline` reports for ``model``, without loading the pipeline."""
    if model in ("", "default"):
        return PIPELINE_VERSION
    meta = Path(model) / "meta.json"
    if not meta.exists():
        return load_pipeline(model)[1]  # load_pipeline names what is wrong with the directory
    import json

    return _model_version(json.loads(meta.read_text(encoding="utf-8")), Path(model))
