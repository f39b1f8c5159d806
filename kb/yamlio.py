"""YAML in and out: the only module that imports yaml. Safe loader only (libyaml's when installed), no aliases."""
from __future__ import annotations

from typing import Any

import yaml


class YamlError(ValueError):
    """The text is not valid YAML."""


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser: ~10 times faster


class _Loader(_SafeLoader):
    """The safe loader, except that an impossible date (2026-13-45) stays text for the caller to report."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def load(text: str) -> Any:
    """Parse YAML with the safe loader; raise YamlError with a one-line reason."""
    try:
        # An alias repeats a node by reference: nine lines of them ("billion laughs") expand to gigabytes
        # when the value is written out or shown, so kb's YAML has none.
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise YamlError(f"aliases (*{event.anchor}) are not allowed (line {mark.line + 1}, "
                                f"column {mark.column + 1})")
        # _Loader is a SafeLoader subclass (it only keeps impossible dates as text), so this is a safe load
        return yaml.load(text, Loader=_Loader)  # noqa: S506  # nosec B506
    except RecursionError:
        raise YamlError("nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlError(f"{problem}{where}") from None


def dump(data: Any) -> str:
    """Serialise to block-style YAML, keys in the given order, Unicode kept as is."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
