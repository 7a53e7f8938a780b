"""A text of a program as one participant would read it, for the admin's texts editor.

The editor shows each text filled in with a real participant's details (or the longest
names we expect, when the program has nobody yet) while the facilitator types. The words
come from `texts.render`, the very rule the sender uses, so the preview cannot say
something the participant would not get.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from service.core import texts
from service.core.segments import segment_info


@dataclass(frozen=True)
class Preview:
    text: str  # as they would read it; "" when the draft cannot be filled in
    customised: bool  # the program's own wording, not the standard text
    problems: tuple[str, ...]  # why the draft cannot be saved, as sentences
    encoding: str
    segments: int


def clean(raw: str | None) -> str:
    """A text as typed in a form, as it is stored: one kind of line break, no edge spaces."""
    return (raw or "").replace("\r\n", "\n").strip()


def is_customised(key: str, lang: str, draft: str | None) -> bool:
    """Whether `draft` is a wording of the program's own (empty or the standard text: no)."""
    text = clean(draft)
    return bool(text) and text != texts.TEMPLATES[key].get(lang, "")


def filled(values: Mapping[str, object], lang: str) -> dict[str, str]:
    """Every placeholder's value: the participant's where known, else the longest sample."""
    known = {name: str(value) for name, value in values.items() if value not in (None, "")}
    sample = {
        **texts.SAMPLE_VALUES,
        "kept": texts.format_kept([(lb, 7, 7) for lb in texts.SAMPLE_LABELS], lang),
    }
    if "step" in known and "step_name" not in known and known["step"].isdigit():
        known["step_name"] = texts.step_name(int(known["step"]), lang)
    return {**sample, **known}


def preview(key: str, lang: str, draft: str | None, values: Mapping[str, object]) -> Preview:
    """Text `key` in `lang` with `draft` as the program's wording (empty: the standard
    text), filled in with `values`."""
    lang = texts.normalise_language(lang)
    everything = filled(values, lang)
    text = clean(draft)
    customised = is_customised(key, lang, text)
    problems: tuple[str, ...] = ()
    overrides = None
    if customised:
        problems = tuple(texts.validate_override(key, text))
        if not texts.renders(text, key, everything):
            return Preview("", True, problems, "GSM-7", 0)
        overrides = {key: {lang: text}}
    shown = texts.render(key, lang, overrides, **everything)
    info = segment_info(shown)
    return Preview(shown, customised, problems, info.encoding, info.segments)
