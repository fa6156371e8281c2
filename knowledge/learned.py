"""A learned word model beside the matcher's hand-built scores: multinomial logistic regression from a question's
terms to an entry (or to "none of them"), trained on each entry's own questions and keywords and on the project's
blind-written training sets (`cosell-bot train`), shipped as `knowledge/data/model.tsv`.

Why: the hand-built scores know only the words the knowledge base uses; users say "checkbox", "storico", "ticket",
"the switch on the opportunity". A linear model over the same terms learns which words point to which entry from
examples, and which shared words ("Partner Center", "Salesforce", "price") say nothing on their own (off-topic
examples are its "none" class). It is small (about 2,000 terms × 24 classes): scoring a question costs a dict
look-up and a row of additions per term, nothing is downloaded, and training is pure Python in seconds and
deterministic, so the shipped file is checked against a fresh training in the tests.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.loader import KnowledgeBase, KnowledgeError
from knowledge.models import LANGS, Lang
from knowledge.text import Lexer, stem

MODEL = Path(__file__).parent / "data" / "model.tsv"
#: the class of questions no entry answers
NONE = "none"
#: the "none" class weighs in training as this many entries' classes (see `train`)
NONE_WEIGHT = 6.0
#: a feature whose weights are all smaller than this is left out of the shipped file (it moves no decision)
PRUNE = 0.01
VERSION = 2


def features(
    lexer: Lexer,
    known: dict[str, float] | frozenset[str],
    words: Iterable[str],
    lang: Lang,
    ignore: Container[str] = frozenset(),
) -> list[str]:
    """The model's features for a question's content `words` (`Lexer.content`): each word's stem in the question's
    language, or in the other one when only that one is a knowledge-base term (the matcher's reading), once.
    `ignore`: words that say nothing of the topic (the greetings and thanks of `Index.courtesy`: "Hi, good
    morning" before a question is no sign of an off-topic one)."""
    other: Lang = "it" if lang == "en" else "en"
    out: dict[str, None] = {}
    for w in words:
        if w in ignore:
            continue
        s = stem(w, lang)
        if s not in known and (s2 := stem(w, other)) in known:
            s = s2
        out.setdefault(s, None)
    return list(out)


@dataclass(frozen=True)
class Model:
    """Class names and, per feature, its weight for each class (dense: a feature row of the shipped file).
    No biases: see `train`."""

    classes: tuple[str, ...]
    weights: dict[str, tuple[float, ...]]
    trained_on: dict[str, int]

    def probabilities(self, feats: Sequence[str]) -> dict[str, float]:
        """Softmax over the classes for a question's features."""
        s = [0.0] * len(self.classes)
        get = self.weights.get
        for f in feats:
            if row := get(f):
                s = [a + b for a, b in zip(s, row, strict=True)]
        top = max(s)
        z = [math.exp(v - top) for v in s]
        total = sum(z)
        return {name: v / total for name, v in zip(self.classes, z, strict=True)}

    def to_text(self) -> str:
        """The shipped file: a JSON header line, then one line per feature ("feature<TAB>weights"), so a
        retraining reads as a diff and loading is one split per line (~7 ms for 2,000 features)."""
        head = {"version": VERSION, "trained_on": self.trained_on, "classes": self.classes}
        lines = [json.dumps(head, ensure_ascii=False)]
        lines += [f + "\t" + " ".join(_number(w) for w in row) for f, row in self.weights.items()]
        return "\n".join(lines) + "\n"


def _number(w: float) -> str:
    return "0" if w == 0 else repr(w)


class ModelError(KnowledgeError):
    """The model file is missing or malformed; the message says which."""


def load_model(path: Path = MODEL) -> Model:
    """Read a model written by `Model.to_text`; ModelError naming the file on any problem."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        head = json.loads(lines[0])
        if head.get("version") != VERSION:
            raise ModelError(f"{path.name}: version {head.get('version')!r}, expected {VERSION}")
        classes = tuple(head["classes"])
        weights = {}
        for number, line in enumerate(lines[1:], 2):
            feature, tab, row = line.partition("\t")
            weights[feature] = tuple(map(float, row.split()))
            if not tab or len(weights[feature]) != len(classes):
                raise ModelError(f"{path.name}:{number}: needs a feature and {len(classes)} weights")
        return Model(classes, weights, dict(head["trained_on"]))
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelError(f"{path.name}: cannot read the learned model: {exc}") from exc


@dataclass(frozen=True)
class Example:
    """One training example: its features, its class and how much it counts."""

    feats: tuple[str, ...]
    label: str
    weight: float = 1.0


def train(
    examples: Sequence[Example],
    *,
    epochs: int = 20,
    rate: float = 0.5,
    l2: float = 1e-4,
    seed: int = 0,
    trained_on: dict[str, int] | None = None,
) -> Model:
    """Multinomial logistic regression by AdaGrad, examples in a seeded shuffled order: the same examples give
    the same model, bit for bit. Classes are balanced (each class's examples weigh as much in all as any other's):
    the training sets' share of off-topic questions says nothing of how often users ask them, and a "none" prior
    learned from it would outvote a short on-topic question's few words. No biases either: with few words a
    question's classes are then even, rather than tilted to the class that had the most unexplained examples
    ("none"). The "none" class alone weighs `NONE_WEIGHT` classes: its probability is then a usable sign of an
    off-topic question where the model answers on its own (`knowledge.matcher._model_alone`)."""
    classes = tuple(sorted({e.label for e in examples}))
    at = {c: i for i, c in enumerate(classes)}
    balance = _balance(examples, classes)
    weights: dict[str, list[float]] = {}
    grads: dict[str, list[float]] = {}
    order = list(range(len(examples)))
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(order)
        for k in order:
            ex = examples[k]
            y = at[ex.label]
            _step(ex, y, ex.weight * balance[y], len(classes), weights, grads, (rate, l2))
    kept = {f: tuple(round(w, 3) for w in row) for f, row in sorted(weights.items()) if max(map(abs, row)) >= PRUNE}
    return Model(classes, kept, dict(trained_on or {}))


def _balance(examples: Sequence[Example], classes: tuple[str, ...]) -> list[float]:
    """Per class, the factor that makes its examples' total weight the mean class's (`NONE_WEIGHT` times that
    for "none")."""
    mass = dict.fromkeys(classes, 0.0)
    for e in examples:
        mass[e.label] += e.weight
    share = sum(mass.values()) / len(classes)
    return [share / mass[c] * (NONE_WEIGHT if c == NONE else 1.0) for c in classes]


def _step(
    ex: Example,
    y: int,
    weight: float,
    n: int,
    weights: dict[str, list[float]],
    grads: dict[str, list[float]],
    hyper: tuple[float, float],
) -> None:
    """One AdaGrad step on one example of class index `y` of `n` (`hyper`: the rate and the L2 penalty)."""
    rate, l2 = hyper
    rows = [weights.setdefault(f, [0.0] * n) for f in ex.feats]
    s = [0.0] * n
    for row in rows:
        for c in range(n):
            s[c] += row[c]
    top = max(s)
    z = [math.exp(v - top) for v in s]
    total = sum(z)
    for c in range(n):
        g = weight * (z[c] / total - (1.0 if c == y else 0.0))
        if abs(g) < 1e-4:
            continue
        for f, row in zip(ex.feats, rows, strict=True):
            acc = grads.setdefault(f, [1e-8] * n)
            gg = g + l2 * row[c]
            acc[c] += gg * gg
            row[c] -= rate * gg / math.sqrt(acc[c])


def case_examples(
    lexer: Lexer,
    known: dict[str, float],
    cases: Iterable[dict[str, object]],
    keep: Callable[[str], bool] = lambda _: True,
    ignore: Container[str] = frozenset(),
) -> list[Example]:
    """Training examples from evaluation-file cases (`bot.evaluation` schema): a `match` case teaches its entry,
    a `none` case the none class; an ambiguous one teaches nothing (it has no one answer). `keep`: which texts the
    model would see at all (`knowledge.matcher.reaches_model`)."""
    out = []
    for case in cases:
        label = case.get("faq") if case.get("kind") == "match" else NONE if case.get("kind") == "none" else None
        text, lang = case.get("text"), case.get("lang")
        if isinstance(label, str) and isinstance(text, str) and lang in LANGS and keep(text):
            out.append(Example(tuple(features(lexer, known, lexer.content(text), lang, ignore)), label))
    return out


#: an entry's keywords teach it at this weight (a keyword is a term, not a question)
KEYWORD_WEIGHT = 0.5


def entry_examples(
    lexer: Lexer, known: dict[str, float], kb: KnowledgeBase, ignore: Container[str] = frozenset()
) -> list[Example]:
    """Training examples from the knowledge base itself: each entry's title and phrasings, and its keywords."""
    out = []
    for e in kb.entries:
        for lang in LANGS:
            c = e.content(lang)
            for text, weight in (
                *((t, 1.0) for t in (c.title, *c.phrasings)),
                *((k, KEYWORD_WEIGHT) for k in c.keywords),
            ):
                out.append(Example(tuple(features(lexer, known, lexer.content(text), lang, ignore)), e.id, weight))
    return out
