"""The controlled vocabulary: regions and their countries, topics, audiences, languages, with labels; and the
one list of kb's languages, visibilities, statuses and roles, which every other module imports from here."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import yamlio
from .errors import TaxonomyError

LANGUAGES = ("en", "fr", "ar")
VISIBILITIES = ("public", "internal", "restricted")
STATUSES = ("draft", "review", "published")
ROLES = ("admin", "focal_point", "practitioner")  # the accounts' roles; the policy (access.py) says what each may do


def place_slug(name: str) -> str:
    """URL slug of a region or country name: lowercase, hyphens ("Horn of Africa" -> "horn-of-africa")."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class Place:
    name: str
    slug: str
    kind: str  # "region" or "country"
    labels: dict[str, str]
    countries: tuple[str, ...]  # a country lists itself
    parent: str | None = None  # a country's region


@dataclass
class Taxonomy:
    places: dict[str, Place] = field(default_factory=dict)  # by name, regions then their countries
    topics: dict[str, dict[str, str]] = field(default_factory=dict)
    audiences: dict[str, dict[str, str]] = field(default_factory=dict)
    languages: dict[str, dict[str, str]] = field(default_factory=dict)
    review_every: int = 180  # days between reviews of a note whose front matter gives none

    @classmethod
    def load(cls, path: Path) -> "Taxonomy":
        """Read content/taxonomy.yml; raise TaxonomyError naming what is wrong."""
        path = Path(path)
        try:
            data = yamlio.load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TaxonomyError(f"{path} is missing: run `kb init` to put the default one there, or point "
                                "KB_CONTENT_DIR at your content folder.") from None
        except NotADirectoryError:
            raise TaxonomyError(f"KB_CONTENT_DIR is {path.parent}, which is not a folder: point KB_CONTENT_DIR "
                                "at a folder.") from None
        except OSError as exc:
            raise TaxonomyError(f"Cannot read {path} ({exc.strerror or exc}): make it a readable file.") from None
        except UnicodeDecodeError:
            raise TaxonomyError(f"{path} is not UTF-8 text: save it as UTF-8.") from None
        except yamlio.YamlError as exc:
            raise TaxonomyError(f"{path} is not valid YAML: {exc}. Correct it.") from None
        try:
            return cls.from_data(data)
        except (KeyError, TypeError, AttributeError) as exc:
            raise TaxonomyError(f"{path}: malformed taxonomy ({exc}): correct it.") from None

    @classmethod
    def from_data(cls, data: dict) -> "Taxonomy":
        tax = cls()
        for region in data["regions"]:
            countries = tuple(c["name"] for c in region["countries"])
            tax.places[region["name"]] = Place(
                region["name"], place_slug(region["name"]), "region", dict(region["labels"]), countries
            )
            for country in region["countries"]:
                tax.places[country["name"]] = Place(
                    country["name"], place_slug(country["name"]), "country", dict(country["labels"]),
                    (country["name"],), region["name"],
                )
        tax.topics = {k: dict(v) for k, v in data["topics"].items()}
        tax.audiences = {k: dict(v) for k, v in data["audiences"].items()}
        tax.languages = {k: dict(v) for k, v in data["languages"].items()}
        every = data.get("review_every", 180)
        if isinstance(every, bool) or not isinstance(every, int) or not 0 < every <= 3650:
            raise TaxonomyError(f"review_every is {every!r}: give the days between reviews of a note as a "
                                "whole number from 1 to 3650 (180 by default).")
        tax.review_every = every
        return tax

    # --- questions the rest of kb asks -------------------------------------------------------
    def regions(self) -> list[Place]:
        return [p for p in self.places.values() if p.kind == "region"]

    def countries(self) -> list[Place]:
        return [p for p in self.places.values() if p.kind == "country"]

    def by_slug(self, slug: str) -> Place | None:
        return next((p for p in self.places.values() if p.slug == slug), None)

    def canonical_place(self, name: str) -> str | None:
        """The taxonomy's spelling of a region or country name, matched without regard to case."""
        if name in self.places:
            return name
        folded = str(name).strip().casefold()
        return next((n for n in self.places if n.casefold() == folded), None)

    def countries_of(self, names) -> frozenset[str]:
        """Every country the given regions/countries cover."""
        out: set[str] = set()
        for n in names:
            place = self.places.get(n)
            if place:
                out.update(place.countries)
        return frozenset(out)

    def places_of(self, names) -> frozenset[str]:
        """Countries covered plus the regions they belong to: what region/country filters match."""
        countries = self.countries_of(names)
        return countries | {self.places[c].parent for c in countries if self.places[c].parent}

    def label(self, kind: str, key: str, lang: str = "en") -> str:
        """A display label for a place, topic, audience or language, falling back to English, then the key."""
        table = {"place": {k: p.labels for k, p in self.places.items()}, "topic": self.topics,
                 "audience": self.audiences, "language": self.languages}[kind]
        labels = table.get(key) or {}
        return labels.get(lang) or labels.get("en") or key
