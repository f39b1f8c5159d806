"""/search and /api/search parameters through the real app: region and country filters, facet counts that
agree with the totals they lead to, and one hit per translation group in the reader's language."""
from dataclasses import replace

import pytest

EN = "reintegration-counselling-returnees-mali"
FR = "accompagnement-reintegration-retournes-mali-fr"


def api(client, headers=None, **params) -> dict:
    resp = client.get("/api/search", query_string=params, headers=headers or {})
    assert resp.status_code == 200
    return resp.get_json()


def test_region_and_country_are_and_values_of_one_are_or(client):
    region = api(client, region="North Africa")
    (one, n_one), (two, n_two) = sorted(region["facets"]["countries"].items())[:2]
    assert 0 < n_one < region["total"] and 0 < n_two
    assert api(client, country=one)["total"] == n_one
    assert api(client, region="North Africa", country=one)["total"] == n_one  # the country is in it
    assert api(client, region="Sahel", country=one)["total"] == 0  # different facets: AND
    assert api(client, country=[one, two])["total"] == n_one + n_two  # one facet: OR
    assert api(client, country=f"{one},{two}")["total"] == n_one + n_two
    assert api(client, country=one.lower())["total"] == n_one  # names are canonicalised
    assert api(client, country="Sahel")["total"] == api(client)["total"]  # not a country: dropped


def test_facets_include_countries_and_each_count_is_the_total_it_leads_to(client):
    country = min(api(client, region="North Africa")["facets"]["countries"])
    data = api(client, region="North Africa", country=country)
    assert set(data["facets"]) == {"regions", "countries", "topics", "audience", "language"}
    countries, regions = data["facets"]["countries"], data["facets"]["regions"]
    assert len(countries) > 1  # counted without the country filter
    assert set(regions) == {country, "North Africa"}  # counted with it
    for other, count in countries.items():
        assert api(client, region="North Africa", country=other)["total"] == count, other
    for place, count in regions.items():
        assert api(client, region=place, country=country)["total"] == count, place
    for topic, count in data["facets"]["topics"].items():
        assert api(client, region="North Africa", country=country, topic=topic)["total"] == count, topic


@pytest.mark.parametrize("lang, shown, hidden", [("en", EN, FR), ("fr", FR, EN)])
def test_one_hit_per_translation_group_in_the_readers_language(client, lang, shown, hidden):
    data = api(client, headers={"Accept-Language": lang}, q="Bamako Kayes")
    found = [h["slug"] for h in data["hits"]]
    assert shown in found and hidden not in found
    assert data["total"] == len(found)
    client.set_cookie("lang", lang)
    html = client.get("/search", query_string={"q": "Bamako Kayes"}).get_data(as_text=True)
    assert f'href="/notes/{shown}"' in html and f'href="/notes/{hidden}"' not in html


def test_a_language_filter_shows_that_translation(client):
    data = api(client, headers={"Accept-Language": "en"}, q="Bamako Kayes", lang="fr")
    assert [h["slug"] for h in data["hits"]] == [FR]


def test_a_focal_points_results_mark_drafts_and_internal_notes_and_the_marks_follow_a_change(app, as_user):
    """The list marks come with the hit from the index (not a read of each listed note) and say what the
    note is now: publishing the draft takes its mark off the next search."""
    client = as_user("moussa")
    slug = "profilage-vulnerabilites-donnees-sahel-fr"  # moussa's internal draft in the Sahel

    def marks() -> str:
        page = client.get("/search", query_string={"q": "profilage vulnérabilités"}).get_data(as_text=True)
        assert f"/notes/{slug}" in page
        item = page[page.index(f"/notes/{slug}"):]
        return item[:item.index("</li>")]
    listed = marks()
    assert 'mark-draft">Draft<' in listed and 'mark-internal">Internal<' in listed
    wiki = app.extensions["kb.wiki"]
    author = app.extensions["kb.users"].by_username("moussa")
    note = wiki.get_note(author, slug)
    wiki.save(author, slug, replace(note.meta, status="published"), note.body, wiki.revision_of(slug))
    listed = marks()
    assert "mark-draft" not in listed and 'mark-internal">Internal<' in listed
