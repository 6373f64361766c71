"""YAML loading that remembers the line of every mapping, key and list item."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from audit import limits
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


class _BoundedComposer(Composer):
    """PyYAML's composer, counting depth, values and aliases as nodes arrive (audit.limits).

    Composing is where a YAML "billion laughs" is still cheap (an alias is one shared node);
    constructing or checking it is not. So every node is weighed here, with aliases weighing
    what they repeat, and a document over a limit is refused before anything is built.
    """

    budget: limits.YamlBudget

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self.budget.alias(id(node), line)
            return node
        self.budget.enter(line)
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.ScalarNode):
            self.budget.scalar(node.value, line)
            children: list[int] = []
        elif isinstance(node, yaml.SequenceNode):
            children = [id(item) for item in node.value]
        else:
            children = [id(part) for pair in node.value for part in pair]
        self.budget.leave(id(node), children, line)
        return node


# libyaml's parser is several times faster than PyYAML's own; the composer above runs on its
# events (safe_load semantics either way).
try:
    from yaml._yaml import CParser as _FastParser
except ImportError:  # PyYAML built without libyaml
    _FastParser = None
_LIBYAML = _FastParser is not None

if _FastParser is not None:

    class _SafeBase(_BoundedComposer, _FastParser, SafeConstructor, Resolver):  # type: ignore[misc,valid-type]
        def __init__(self, stream: str) -> None:
            _FastParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            _BoundedComposer.__init__(self)
            self.budget = limits.YamlBudget()

else:

    class _SafeBase(Reader, Scanner, Parser, _BoundedComposer, SafeConstructor, Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.budget = limits.YamlBudget()


class _LineLoader(_SafeBase):
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
    if len(text) > limits.RUBRIC_BYTES:  # characters: never more than the bytes
        error = limits.LimitExceeded("RUBRIC_BYTES", f"a file of {len(text):,} characters")
        return None, Problem("", f"not accepted: {error}")
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
    except limits.LimitExceeded as error:
        line = int(error.where.removeprefix("line ")) if error.where else None
        return None, Problem("", f"not accepted: {error.message}", line)
    except yaml.reader.ReaderError as error:
        before = text[: error.position]
        if _LIBYAML:  # libyaml counts bytes of UTF-8, not characters
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
