"""YAML loading that remembers the line of every mapping, key and list item."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import yaml

from audit.rubric.model import Problem

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _LineDict(dict):  # type: ignore[type-arg]
    """A mapping from YAML that remembers where it and each of its keys started."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}
        self.raw: dict[Any, str] = {}
        self.duplicates: list[tuple[Any, int]] = []


class _LineList(list):  # type: ignore[type-arg]
    """A sequence from YAML that remembers where it and each of its items started."""

    line: int | None = None

    def __init__(self) -> None:
        super().__init__()
        self.item_lines: list[int] = []


# libyaml's parser is several times faster; the constructors (safe_load semantics) are the same.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A SafeLoader that records line numbers so problems can cite them."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Turn stray errors from odd explicit tags (!!int x) into errors with a line."""
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as error:  # PyYAML's constructors raise assorted built-in errors
            shown = f' "{_short(node.value)}"' if isinstance(node, yaml.ScalarNode) else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value{shown} ({error})", node.start_mark
            ) from error


def _expect(node: yaml.Node, kind: type[yaml.Node], what: str) -> None:
    """Refuse an explicit tag on the wrong kind of node (!!map [1]), as safe_load does."""
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(
            None, None, f"expected {what}, but found {node.id}", node.start_mark
        )


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_LineDict]:
    _expect(node, yaml.MappingNode, "a mapping")
    data = _LineDict()
    data.line = node.start_mark.line + 1
    yield data
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
            key = loader.construct_object(key_node)
            if not isinstance(key, Hashable):
                continue  # construct_mapping below reports it as an unhashable key
            if key in seen:
                data.duplicates.append((key, key_node.start_mark.line + 1))
            seen.add(key)
    data.update(loader.construct_mapping(node))
    for key_node, value_node in node.value:  # merged keys are flattened in by now
        if isinstance(key_node, yaml.ScalarNode):
            key = loader.construct_object(key_node)
            data.key_lines.setdefault(key, key_node.start_mark.line + 1)
            if isinstance(value_node, yaml.ScalarNode):
                data.raw[key] = value_node.value


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_LineList]:
    _expect(node, yaml.SequenceNode, "a sequence")
    data = _LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [item.start_mark.line + 1 for item in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _load_yaml(text: str) -> tuple[Any, Problem | None]:
    """Parse YAML with safe_load semantics, turning any failure into a located problem."""
    try:
        loader = _LineLoader(text)
        try:
            return loader.get_single_data(), None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "cannot be read"
        if error.context and error.problem:
            message = f"{error.problem} ({error.context}"
            if error.context_mark is not None and error.context_mark is not mark:
                message += f" at line {error.context_mark.line + 1}"
            message += ")"
        if mark is None:
            return None, Problem("", f"not valid YAML: {message}")
        return None, Problem("", f"not valid YAML: {message}", mark.line + 1, mark.column + 1)
    except yaml.reader.ReaderError as error:
        before = text[: error.position]
        if _SafeBase is not yaml.SafeLoader:  # libyaml counts bytes of UTF-8, not characters
            before = text.encode("utf-8")[: error.position].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        char = error.character
        code = ord(char) if isinstance(char, str) else int(char)  # libyaml gives a number
        return None, Problem(
            "", f"not valid YAML: the character U+{code:04X} is not allowed", line, column
        )
    except RecursionError:
        return None, Problem("", "not valid YAML: nested too deeply")
    except yaml.YAMLError as error:
        return None, Problem("", f"not valid YAML: {error}")
