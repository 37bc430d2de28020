"""One scan for many patterns: which of a component's regular expressions can match a text at all.

Python's ``re`` runs each pattern over the whole text, one after the other, and most posts match few of the rules'
patterns. A :class:`Prefilter` compiles a *relaxed* copy of every pattern into one Hyperscan database (Intel's
multi-pattern engine, the ``hyperscan`` package, on x86-64) and scans a text once; only the patterns it reports
then run in ``re``. What they find (matches, counts, order) is therefore exactly what ``re`` alone finds.

The relaxed copy reads the text's UTF-8 bytes and matches everything its pattern matches, and more:

- word boundaries, anchors and look-arounds are dropped (an assertion only ever removes matches);
- ``\\w``, ``\\s``, ``\\d``, their negations, ``.`` and any class that holds them, is negated or has a range
  beyond ASCII become any character (one to four bytes, newlines included);
- a back-reference becomes any text;
- a repetition loses its upper bound (byte mode and no bounds: a database compiles in milliseconds);
- literal characters (as their UTF-8 bytes), their order, alternatives and repetitions' lower bounds are kept.

So a pattern the prefilter does not report cannot match, and skipping it changes nothing. A pattern it cannot relax
(case-insensitive ones: Unicode case folding is not byte-exact) is a candidate for every text, as is every pattern
when Hyperscan is not installed: the results stay the same, only slower.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Hashable, Mapping
from pathlib import Path
from re import _constants as C  # noqa: N812  (the parser's opcodes; stable across 3.11+)
from re import _parser

log = logging.getLogger(__name__)

try:
    import hyperscan
except ImportError:  # not built for this platform: every pattern is a candidate
    hyperscan = None

CHAR = ".{1,4}"  # any one character: 1 to 4 bytes of UTF-8


class Unrelaxable(ValueError):
    """A construct the relaxation does not handle: the pattern is a candidate for every text."""


def relax(pattern: re.Pattern[str]) -> list[str]:
    """Hyperscan expressions over the UTF-8 bytes of a text (dot-all): one of them matches wherever ``pattern``
    matches the text, and possibly elsewhere. A pattern's top-level alternatives are expressions of their own
    (Hyperscan compiles many small expressions far faster than one large alternation)."""
    if pattern.flags & re.IGNORECASE:
        raise Unrelaxable("case-insensitive")
    return [_sequence(branch) for branch in _alternatives(list(_parser.parse(pattern.pattern, pattern.flags)))]


def _alternatives(items: list) -> list[list]:
    """The branches of a pattern that is one alternation (maybe inside groups), else the pattern itself."""
    items = [(op, av) for op, av in items if op not in (C.AT, C.ASSERT, C.ASSERT_NOT)]  # dropped anyway
    if len(items) == 1:
        op, av = items[0]
        if op is C.BRANCH:
            return [branch for sub in av[1] for branch in _alternatives(list(sub))]
        if op is C.SUBPATTERN and not av[1] & re.IGNORECASE:
            return _alternatives(list(av[3]))
    return [items]


def _char(code: int) -> str:
    """One character as its UTF-8 bytes."""
    return "".join(f"\\x{byte:02x}" for byte in chr(code).encode("utf-8", "surrogatepass"))


def _class(items: list) -> str:
    ascii_, others = [], []
    for op, av in items:
        if op is C.LITERAL:
            (ascii_ if av < 0x80 else others).append(_char(av))
        elif op is C.RANGE and av[1] < 0x80:
            ascii_.append(f"{_char(av[0])}-{_char(av[1])}")
        else:  # NEGATE, CATEGORY, a range beyond ASCII: wider than a list of byte sequences
            return CHAR
    options = (["[" + "".join(ascii_) + "]"] if ascii_ else []) + others
    return "(?:" + "|".join(options) + ")"


def _sequence(items) -> str:
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(_char(av))
        elif op in (C.NOT_LITERAL, C.ANY, C.CATEGORY):
            out.append(CHAR)
        elif op is C.IN:
            out.append(_class(av))
        elif op is C.BRANCH:
            out.append("(?:" + "|".join(_sequence(branch) for branch in av[1]) + ")")
        elif op is C.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            if add_flags & re.IGNORECASE:
                raise Unrelaxable("case-insensitive group")
            out.append("(?:" + _sequence(sub) + ")")
        elif op is C.ATOMIC_GROUP:
            out.append("(?:" + _sequence(av) + ")")
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, _high, sub = av  # no upper bound: a bounded repeat is costly to compile, an unbounded one is not
            inner = _sequence(sub)
            # n characters take at least n bytes: any-character repeated becomes any byte, at least `low` of them
            out.append(f".{{{low},}}" if inner == CHAR else f"(?:{inner}){{{low},}}")
        elif op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue  # assertions only remove matches
        elif op is C.GROUPREF:
            out.append(".*")
        else:
            raise Unrelaxable(str(op))
    return "".join(out)


def cache_dir() -> Path:
    """Where compiled databases are kept: ``$SOCIALCX_CACHE_DIR``, else ``$XDG_CACHE_HOME/socialcx`` (``~/.cache``)."""
    if os.environ.get("SOCIALCX_CACHE_DIR"):
        return Path(os.environ["SOCIALCX_CACHE_DIR"]) / "prefilter"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "socialcx" / "prefilter"


def _compile(expressions: list[tuple[Hashable, bytes]], flags: int):
    """One database; an expression's id is its place in ``expressions``.

    Compiling the rules' few hundred expressions takes about 0.4 s, on every pipeline load (each enrich run, each
    worker). A compiled database is kept in :func:`cache_dir`, named by the hash of what it was compiled from and
    Hyperscan's version, and read back in milliseconds. A file that does not load (another CPU, damage) is
    compiled again; a cache that cannot be written is skipped."""
    if not expressions:
        return None
    digest = hashlib.sha256(repr((hyperscan.__version__, flags, [e for _, e in expressions])).encode()).hexdigest()
    try:
        path = cache_dir() / f"{digest}.hsdb"
    except RuntimeError:  # no home directory (a container's arbitrary user): no cache
        return _build(expressions, flags)
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)  # scratch: per thread, at the scan
    except (OSError, hyperscan.error):
        pass
    database = _build(expressions, flags)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(hyperscan.dumpb(database))
        os.replace(partial, path)  # whole or absent: a reader never sees half a file
    except OSError as exc:
        log.debug("prefilter cache %s not written (%s)", path.parent, exc)
    return database


def _build(expressions: list[tuple[Hashable, bytes]], flags: int):
    database = hyperscan.Database()
    database.compile(expressions=[expression for _, expression in expressions], ids=list(range(len(expressions))),
                     elements=len(expressions), flags=[flags] * len(expressions))
    return database


class Prefilter:
    """Which of ``patterns`` (``{key: compiled pattern}``) can match a text, from one scan."""

    def __init__(self, patterns: Mapping[Hashable, re.Pattern[str]]) -> None:
        self.keys = frozenset(patterns)
        self.database = None
        self.always: frozenset[Hashable] = self.keys
        if hyperscan is None or not patterns:
            return
        flags = hyperscan.HS_FLAG_DOTALL | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
        relaxed, always = [], set()
        for key, compiled in patterns.items():
            try:
                relaxed += [(key, expression.encode()) for expression in relax(compiled)]
            except Unrelaxable as exc:
                log.debug("pattern %r is checked on every text (%s)", key, exc)
                always.add(key)
        try:
            self.database = _compile(relaxed, flags)
        except hyperscan.error:  # find what Hyperscan refuses: its pattern is checked on every text
            for key, expression in relaxed:
                try:
                    _build([(key, expression)], flags)
                except hyperscan.error as exc:
                    log.debug("pattern %r is checked on every text (%s)", key, exc)
                    always.add(key)
            relaxed = [(key, expression) for key, expression in relaxed if key not in always]
            self.database = _compile(relaxed, flags)
        self._by_id: list[Hashable] = [key for key, _ in relaxed]
        self.always = frozenset(always)
        self._local = threading.local()  # a scan's scratch space is one thread's at a time

    @property
    def active(self) -> bool:
        return self.database is not None

    def candidates(self, text: str) -> frozenset[Hashable] | set[Hashable]:
        """The keys whose pattern may match ``text`` (a superset of those that do)."""
        if self.database is None:
            return self.keys
        data = text.encode("utf-8", "surrogatepass")  # a lone surrogate too: the scan reads bytes
        found = set(self.always)
        by_id = self._by_id
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        self.database.scan(data, match_event_handler=lambda i, *_: found.add(by_id[i]), scratch=scratch)
        return found
