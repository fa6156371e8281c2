"""The built knowledge, saved once and read at start-up: `load_or_build()`; `python -m knowledge.snapshot` saves it.

Building the knowledge (reading 30 YAML files into validated models, indexing every phrasing, the hand-over recogniser,
the off-topic neighbours, the learned model) costs ~85 ms of CPU at every start-up; reading it back from a pickle
costs ~14 ms, most of it compiling the fingerprints' regular expressions again.

- **When it is used:** only when its key matches. The key is a hash of every data file and every module of this
  package (their bytes), the Python version, and the versions of pydantic, pydantic-core and PyYAML (pickled models
  depend on them). Any change, or a snapshot that cannot be read, means the knowledge is built as before: never a
  stale answer, at worst a slower start.
- **Where it lives and who writes it:** `knowledge/__pycache__/`, beside the sources it comes from, like bytecode and
  with the same trust. Only `python -m knowledge.snapshot` writes it, which `scripts/bootstrap` and the Dockerfile
  run (as root, before the image drops to its user). A server never writes into its own package, and never reads a
  snapshot from anywhere else (a pickle runs code when read: it must be as trusted as the code itself).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pydantic
import pydantic_core
import yaml

from knowledge.intent import HandoffRecognizer, recognizer_for
from knowledge.learned import Model, load_model
from knowledge.loader import DATA_DIR, KnowledgeBase, load_kb
from knowledge.matcher import Index, index_kb
from knowledge.neighbours import Neighbours, load_neighbours

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
CACHE_DIR = PACKAGE / "__pycache__"
FORMAT = 1  # bump when what is pickled changes shape in a way the sources' hash would not show


@dataclass(frozen=True)
class Built:
    """The knowledge as the assistant serves it, before the thresholds in force are applied."""

    kb: KnowledgeBase
    index: Index
    handoff: HandoffRecognizer
    neighbours: Neighbours
    model: Model | None


def build(*, learned: bool = True) -> Built:
    """Build the knowledge from the data files (`learned=False`: without the learned model, to train it)."""
    kb = load_kb()
    return Built(kb, index_kb(kb), recognizer_for(kb), load_neighbours(), load_model() if learned else None)


def key(package: Path = PACKAGE, data: Path = DATA_DIR) -> str:
    """What the snapshot was built from: the data files, this package's modules, the versions it depends on."""
    digest = hashlib.sha256(f"{FORMAT}|{sys.version}|{pydantic.VERSION}|{pydantic_core.__version__}|".encode())
    digest.update(f"{yaml.__version__}|{sys.byteorder}".encode())
    for path in sorted([*package.glob("*.py"), *(p for p in data.rglob("*") if p.is_file())]):
        digest.update(path.relative_to(package.parent).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def path(cache_dir: Path = CACHE_DIR) -> Path:
    """Where the snapshot of the current sources is (or would be)."""
    return cache_dir / f"knowledge-{key()}.pickle"


def load(cache_dir: Path = CACHE_DIR) -> Built | None:
    """The snapshot of the current sources, or None (none was written for them, or it cannot be read)."""
    try:
        with path(cache_dir).open("rb") as f:
            built = pickle.load(f)  # noqa: S301 (written by `python -m knowledge.snapshot` into the package itself)
    except FileNotFoundError:
        return None
    except Exception as exc:  # any unreadable snapshot (truncated, another pydantic…): build instead, as without one
        log.info("knowledge snapshot unreadable (%s): building the knowledge", type(exc).__name__)
        return None
    return built if isinstance(built, Built) and built.model is not None else None


def load_or_build() -> Built:
    """The knowledge with its learned model: from the snapshot when there is one for these sources, else built."""
    return load() or build()


def write(cache_dir: Path = CACHE_DIR) -> Path:
    """Build the knowledge and save it for the current sources (atomically), removing snapshots of older ones."""
    built = build()
    target = path(cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".knowledge-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(built, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o644)  # readable by the image's user; written by the one who installs
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in target.parent.glob("knowledge-*.pickle"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


if __name__ == "__main__":  # through the package's module: a pickle names `knowledge.snapshot.Built`, not `__main__`'s
    from knowledge import snapshot

    sys.stdout.write(f"{snapshot.write(Path(sys.argv[1]) if len(sys.argv) > 1 else CACHE_DIR)}\n")
