"""Files beside the notes, through the real app: metadata gone before anything is written, types decided by
the content, the note's readers exactly, searchable text, and the files following their note."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from .attachment_files import DISGUISED_HTML, pdf_with_author, photo_with_gps
from .conftest import csrf_token, git, login

PUBLIC = "reintegration-counselling-returnees-mali"  # public, published, by moussa (Mali)
RESTRICTED = "protocole-orientation-victimes-traite-mali-fr"  # restricted, Mali and Niger


def multipart(data: bytes, name: str, **form) -> tuple[bytes, str]:
    """A multipart body in memory (the test client would spool a large one to a file it never closes)."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename=name), **form})
    return body, f"multipart/form-data; boundary={boundary}"


def api_upload(client, slug: str, name: str, data: bytes, **form):
    body, content_type = multipart(data, name, **form)
    return client.post(f"/api/notes/{slug}/attachments", data=body, content_type=content_type,
                       headers={"X-CSRFToken": csrf_token(client, f"/notes/{slug}/edit")})


def files_on_disk(site, slug: str) -> list[str]:
    folder = site / "content" / "_files" / slug
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def test_a_photo_with_a_gps_tag_comes_back_with_no_exif_at_all(as_user, site):
    client = as_user("moussa")
    photo = photo_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)  # the test photo does carry a position
    resp = api_upload(client, PUBLIC, "IMG 2041 (Agadez).JPG", photo)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    assert data["name"] == "img-2041-agadez.jpg" and data["type"] == "image/jpeg"
    served = client.get(data["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    body = served.get_data()
    assert data["size"] == len(body)
    img = Image.open(io.BytesIO(body))
    assert not img.getexif() and "exif" not in img.info and "xmp" not in img.info
    for leaked in (b"Exif", b"PhoneMaker", b"SERIAL12345", b"Owner Fieldworker", b"xmpmeta"):
        assert leaked not in body
    assert img.size == (1200, 1600)  # turned upright (orientation 6), then scaled to 1,600 px at most
    assert img.getpixel((1190, 10))[0] > 200  # the yellow corner is where the orientation puts it
    on_disk = (site / "content" / "_files" / PUBLIC / "img-2041-agadez.jpg").read_bytes()
    assert on_disk == body and b"Exif" not in on_disk  # nothing with metadata was ever written
    thumb = Image.open(io.BytesIO(client.get(data["thumbnail"]).get_data()))
    assert max(thumb.size) <= 400 and not thumb.getexif()
    assert b"PhoneMaker" not in git(site / "content", "log", "-p", "--all", "--binary").encode()


def test_a_pdf_with_an_author_comes_back_without_it_and_its_text_is_searchable(as_user, site, app):
    writer = as_user("moussa")
    resp = api_upload(writer, PUBLIC, "SOP.pdf", pdf_with_author())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    assert data["name"] == "sop.pdf" and data["type"] == "application/pdf"
    served = writer.get(data["url"])
    body = served.get_data()
    assert b"Jane Fieldworker" not in body and b"Field Office" not in body and b"app.alert" not in body
    assert b"/Author" not in body and b"/Metadata" not in body and b"/OpenAction" not in body
    import pypdf
    reader = pypdf.PdfReader(io.BytesIO(body))
    assert not reader.metadata and "quillomet" in reader.pages[0].extract_text()
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "sandbox"
    assert served.headers["Content-Disposition"] == 'attachment; filename="sop.pdf"'
    etag, weak = served.get_etag()
    assert etag == data["sha256"] and not weak
    assert "immutable" in served.headers["Cache-Control"] and "max-age=31536000" in served.headers["Cache-Control"]
    assert writer.get(data["url"], headers={"If-None-Match": f'"{etag}"'}).status_code == 304
    client = app.test_client()  # the public
    found = client.get("/api/search?q=quillomet").get_json()
    assert [h["slug"] for h in found["hits"]] == [PUBLIC] and found["hits"][0]["found_in"] == "sop.pdf"
    page = client.get("/search?q=quillomet").get_data(as_text=True)
    assert "in sop.pdf" in page


@pytest.mark.parametrize("name, data, status", [
    ("referral-form.pdf", DISGUISED_HTML, 415),
    ("map.pdf", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415),
    ("tool.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", 415),
    ("big.csv", b"a,b\n" * (300 * 1024), 413),  # 1.2 MB, over the 1 MB limit set below
], ids=["html-named-pdf", "svg-named-pdf", "executable", "oversized"])
def test_disguised_and_oversized_files_are_refused_with_nothing_written(app, as_user, site, name, data, status):
    app.config["KB_MAX_UPLOAD_MB"] = 1
    client = as_user("moussa")
    head = git(site / "content", "rev-parse", "HEAD")
    resp = api_upload(client, PUBLIC, name, data)
    assert resp.status_code == status
    assert resp.get_json()["error"]["message"]
    assert git(site / "content", "rev-parse", "HEAD") == head
    assert files_on_disk(site, PUBLIC) == [] and not git(site / "content", "status", "--porcelain")


def test_a_file_larger_than_any_request_is_refused_before_it_is_read(app, as_user, site):
    app.config["KB_MAX_UPLOAD_MB"] = 1
    client = as_user("moussa")
    head = git(site / "content", "rev-parse", "HEAD")
    resp = api_upload(client, PUBLIC, "huge.csv", b"x\n" * (5 * 1024 * 1024))  # past the request limit too
    assert resp.status_code == 413 and git(site / "content", "rev-parse", "HEAD") == head
    assert files_on_disk(site, PUBLIC) == []


def test_a_name_clash_gets_a_suffix_never_an_overwrite(as_user):
    client = as_user("moussa")
    first = api_upload(client, PUBLIC, "table.csv", b"place,count\nAgadez,12\n").get_json()
    second = api_upload(client, PUBLIC, "table.csv", b"place,count\nArlit,3\n").get_json()
    assert (first["name"], second["name"]) == ("table.csv", "table-2.csv")
    assert b"Agadez" in client.get(first["url"]).get_data() and b"Arlit" in client.get(second["url"]).get_data()


def test_a_restricted_notes_file_is_404_to_the_public(as_user, app):
    moussa = as_user("moussa")
    data = api_upload(moussa, RESTRICTED, "carte.csv", b"lieu,centre\nAgadez,transit\n").get_json()
    assert moussa.get(data["url"]).status_code == 200
    client = app.test_client()  # the public
    ghost = client.get(f"/notes/{RESTRICTED}-nothing/files/carte.csv")
    for url in (data["url"], f"/notes/{RESTRICTED}/files/carte.csv", f"/notes/{RESTRICTED}/thumbs/carte.csv",
                f"/api/notes/{RESTRICTED}/attachments"):
        resp = client.get(url)
        assert resp.status_code == 404 and b"Agadez" not in resp.get_data(), url
        assert resp.get_data(as_text=True).replace(RESTRICTED, "") == \
            client.get(url.replace(RESTRICTED, RESTRICTED + "-nothing")).get_data(as_text=True).replace(
                RESTRICTED + "-nothing", ""), url
    assert ghost.status_code == 404
    assert RESTRICTED not in client.get("/api/search?q=transit").get_data(as_text=True)
    assert RESTRICTED in moussa.get("/api/search?q=transit").get_data(as_text=True)  # found by its readers


def test_only_editors_upload_and_remove(as_user, client, site):
    body, content_type = multipart(b"a,b\n", "x.csv")
    assert client.post(f"/api/notes/{PUBLIC}/attachments", data=body, content_type=content_type).status_code in (400, 401)
    pat = as_user("pat")
    assert api_upload(pat, PUBLIC, "x.csv", b"a,b\n").status_code == 403
    assert files_on_disk(site, PUBLIC) == []


def test_markdown_links_lead_to_the_attachments(as_user, app):
    moussa = as_user("moussa")
    photo = api_upload(moussa, PUBLIC, "map.jpg", photo_with_gps(800, 600, 1)).get_json()
    api_upload(moussa, PUBLIC, "sop.pdf", pdf_with_author())
    note = moussa.get(f"/api/notes/{PUBLIC}").get_json()
    body = note["body"] + "\n\n![Community map](files/map.jpg) and the [SOP](files/sop.pdf).\n" + \
        f"[Their protocol](/notes/{RESTRICTED}/files/protocole.pdf)\n"  # a hidden note's file: masked
    preview = moussa.post("/editor/preview", data={"body": body, "note_slug": PUBLIC, "language": "en",
                                                   "csrf_token": csrf_token(moussa, f"/notes/{PUBLIC}/edit")})
    assert f'src="/notes/{PUBLIC}/files/map.jpg"' in preview.get_data(as_text=True)
    resp = moussa.put(f"/api/notes/{PUBLIC}", json={"body": body, "base_revision": note["revision"]},
                      headers={"X-CSRFToken": csrf_token(moussa, f"/notes/{PUBLIC}/edit")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    client = app.test_client()  # the public
    page = client.get(f"/notes/{PUBLIC}").get_data(as_text=True)
    assert f'src="/notes/{PUBLIC}/files/map.jpg"' in page and f'href="/notes/{PUBLIC}/files/sop.pdf"' in page
    assert "sop.pdf" in page and photo["thumbnail"].replace("&", "&amp;") in page  # listed, with a thumbnail
    assert "PDF document" in page and "JPEG photo" in page and " KB)" in page  # with type and size
    assert RESTRICTED not in page and "Their protocol" in page
    feed = client.get("/feeds/all.atom").get_data(as_text=True)
    assert f"/notes/{PUBLIC}/files/map.jpg" in feed


def test_rename_and_delete_carry_the_files_and_a_pack_holds_them(as_user, site, app):
    moussa = as_user("moussa")
    data = api_upload(moussa, PUBLIC, "sop.pdf", pdf_with_author()).get_json()
    wiki = app.extensions["kb.wiki"]
    new = wiki.rename(wiki_user(app, "moussa"), PUBLIC, "reintegration-counselling-mali", None)
    assert files_on_disk(site, new) == ["sop.pdf"] and files_on_disk(site, PUBLIC) == []
    assert moussa.get(f"/notes/{new}/files/sop.pdf").get_data() == moussa.get(
        f"/notes/{new}/files/sop.pdf?v={data['sha256'][:16]}").get_data()
    assert not git(site / "content", "status", "--porcelain")
    assert wiki.check_index().clean
    client = app.test_client()  # the public
    pack = client.get("/regions/mali/export.zip")
    packed = pack.get_data()
    pack.close()
    with zipfile.ZipFile(io.BytesIO(packed)) as zf:
        held = [n for n in zf.namelist() if n.endswith(f"/files/{new}/sop.pdf")]
        assert held and zf.read(held[0]) == moussa.get(f"/notes/{new}/files/sop.pdf").get_data()
        page = zf.read(f"kb-mali/notes/{new}.html").decode()
        assert 'href="../files/' + new + '/sop.pdf"' in page  # the note's list of files leads to the copy
    region = client.get("/regions/mali").get_data(as_text=True)
    assert re.search(r"Download public pack</a> <span class=\"n\">\(about [0-9.,]+ (KB|MB)\)</span>", region)
    old_url = client.get(f"/notes/{PUBLIC}/files/sop.pdf")  # the old name leads to the renamed note's file
    assert old_url.status_code == 301 and old_url.headers["Location"].endswith(f"/notes/{new}/files/sop.pdf")
    trash_id = wiki.delete(wiki_user(app, "admin"), new, "test")
    assert files_on_disk(site, new) == [] and (site / "content" / ".trash" / "_files" / trash_id / "sop.pdf").is_file()
    assert client.get(f"/notes/{new}/files/sop.pdf").status_code == 404
    wiki.undelete(wiki_user(app, "admin"), trash_id)
    assert files_on_disk(site, new) == ["sop.pdf"]


def wiki_user(app, name: str):
    return app.extensions["kb.users"].by_username(name)


def test_upload_in_the_editor_without_a_script_then_remove(as_user, site, app):
    client = as_user("moussa")
    editor = client.get(f"/notes/{PUBLIC}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in editor and f'action="/notes/{PUBLIC}/files"' in editor
    body, content_type = multipart(photo_with_gps(900, 700, 1), "Photo mobile court.jpg",
                                   csrf_token=csrf_token(client, f"/notes/{PUBLIC}/edit"), next="edit")
    resp = client.post(f"/notes/{PUBLIC}/files", data=body, content_type=content_type)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/notes/{PUBLIC}/edit#attachments")
    editor = client.get(f"/notes/{PUBLIC}/edit").get_data(as_text=True)
    assert "Added photo-mobile-court.jpg" in editor and "![photo-mobile-court.jpg](files/photo-mobile-court.jpg)" in editor
    page = app.test_client().get(f"/notes/{PUBLIC}").get_data(as_text=True)
    assert "photo-mobile-court.jpg" in page and f"/notes/{PUBLIC}/thumbs/photo-mobile-court.jpg" in page
    body, content_type = multipart(DISGUISED_HTML, "form.pdf", csrf_token=csrf_token(client, f"/notes/{PUBLIC}/files"))
    refused = client.post(f"/notes/{PUBLIC}/files", data=body, content_type=content_type)
    assert refused.status_code == 415 and "decided by the content" in refused.get_data(as_text=True)
    removed = client.post(f"/notes/{PUBLIC}/files/photo-mobile-court.jpg/delete",
                          data={"csrf_token": csrf_token(client, f"/notes/{PUBLIC}/files")})
    assert removed.status_code == 303 and files_on_disk(site, PUBLIC) == []
    assert app.test_client().get(f"/notes/{PUBLIC}/files/photo-mobile-court.jpg").status_code == 404
    log = git(site / "content", "log", "--format=%s", "-2")
    assert log.splitlines() == [f"Remove photo-mobile-court.jpg from {PUBLIC}",
                                f"Attach photo-mobile-court.jpg to {PUBLIC}"]
    kept = git(site / "content", "rev-parse", "HEAD~1")  # history keeps it, for admins only
    assert 'removed-title' not in client.get(f"/notes/{PUBLIC}/files").get_data(as_text=True)
    assert client.get(f"/notes/{PUBLIC}/files/photo-mobile-court.jpg?rev={kept.strip()}").status_code == 404
    admin = app.test_client()
    login(admin, "admin")
    listed = admin.get(f"/notes/{PUBLIC}/files").get_data(as_text=True)
    link = f"/notes/{PUBLIC}/files/photo-mobile-court.jpg?rev={kept.strip()}"
    assert "removed by moussa" in listed and link in listed
    old = admin.get(link)
    assert old.status_code == 200 and not Image.open(io.BytesIO(old.get_data())).getexif()


def test_the_api_removes_a_file(as_user, site):
    client = as_user("moussa")
    api_upload(client, PUBLIC, "table.csv", b"place,count\nAgadez,12\n")
    resp = client.delete(f"/api/notes/{PUBLIC}/attachments/table.csv",
                         headers={"X-CSRFToken": csrf_token(client, f"/notes/{PUBLIC}/edit")})
    assert resp.status_code == 200 and resp.get_json()["revision"]
    assert files_on_disk(site, PUBLIC) == [] and client.get(f"/api/notes/{PUBLIC}/attachments").get_json() == {
        "attachments": []}
    again = client.delete(f"/api/notes/{PUBLIC}/attachments/table.csv",
                          headers={"X-CSRFToken": csrf_token(client, f"/notes/{PUBLIC}/edit")})
    assert again.status_code == 404


def test_the_personal_data_guard_reads_pdf_text_and_csv_cells(as_user, site, app):
    client = as_user("moussa")
    contacts = b"name,phone\nfocal point,+218 91 234 5678\n"
    refused = api_upload(client, PUBLIC, "contacts.csv", contacts)  # the note is public and published
    assert refused.status_code == 422
    finding = refused.get_json()["error"]["personal_data"][0]
    assert (finding["field"], finding["kind"], finding["text"]) == ("contacts.csv", "phone", "+218 91 234 5678")
    assert files_on_disk(site, PUBLIC) == []
    body, content_type = multipart(contacts, "contacts.csv", csrf_token=csrf_token(client, f"/notes/{PUBLIC}/files"))
    form = client.post(f"/notes/{PUBLIC}/files", data=body, content_type=content_type)  # the editor's form
    page = form.get_data(as_text=True)
    assert form.status_code == 422 and "+218 91 234 5678" in page and 'name="confirm_personal_data"' in page
    assert files_on_disk(site, PUBLIC) == []
    confirmed = api_upload(client, PUBLIC, "contacts.csv", contacts, confirm_personal_data="the ministry's hotline")
    assert confirmed.status_code == 201
    assert "Personal-data-confirmed: the ministry's hotline" in git(site / "content", "log", "-1", "--format=%B")
    # a draft may hold a PDF with a phone number; publishing it as public asks first, like the body
    draft = "water-draft"
    resp = client.post("/api/notes", json={"slug": draft, "meta": {
        "title": "Water committees", "language": "en", "regions": ["Niger"], "topics": ["mhpss"],
        "visibility": "public", "status": "draft"}, "body": "Twelve wells."},
        headers={"X-CSRFToken": csrf_token(client, f"/notes/{PUBLIC}/edit")})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert api_upload(client, draft, "sop.pdf", pdf_with_author("Call +218 91 234 5678 first")).status_code == 201
    note = client.get(f"/api/notes/{draft}").get_json()
    publish = client.put(f"/api/notes/{draft}", json={"meta": {"status": "published"},
                                                      "base_revision": note["revision"]},
                         headers={"X-CSRFToken": csrf_token(client, f"/notes/{PUBLIC}/edit")})
    assert publish.status_code == 422
    assert [f["field"] for f in publish.get_json()["error"]["personal_data"]] == ["sop.pdf"]


def test_index_check_and_start_up_repair_cover_attachments(as_user, site, app):
    client = as_user("moussa")
    wiki = app.extensions["kb.wiki"]
    folder = site / "content" / "_files" / PUBLIC
    folder.mkdir(parents=True)
    (folder / "behind.csv").write_text("word\nzumbraxe\n", encoding="utf-8")  # written behind kb's back
    drift = wiki.check_index()
    assert drift.stale == [PUBLIC]
    assert client.get("/api/search?q=zumbraxe").get_json()["total"] == 0
    from kb import create_app
    from .conftest import site_config
    restarted = create_app(site_config(site))  # the start-up check repairs it
    try:
        hits = restarted.test_client().get("/api/search?q=zumbraxe").get_json()["hits"]
        assert [(h["slug"], h["found_in"]) for h in hits] == [(PUBLIC, "behind.csv")]
        assert restarted.extensions["kb.wiki"].check_index().clean
    finally:
        restarted.extensions["kb.wiki"].close()
        restarted.extensions["kb.users"].dispose()


def test_a_pdfs_embedded_files_and_scripts_do_not_survive(as_user):
    import pikepdf
    pdf = pikepdf.open(io.BytesIO(pdf_with_author()))
    pdf.attachments["beneficiaries.csv"] = pikepdf.AttachedFileSpec(pdf, b"name,phone\nAmina,+218 91 234 5678\n")
    pdf.pages[0].AA = pikepdf.Dictionary(O=pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                               JS=pikepdf.String("this.submitForm('x')")))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    assert b"Amina" in out.getvalue() and b"submitForm" in out.getvalue()
    client = as_user("moussa")
    data = api_upload(client, RESTRICTED, "dossier.pdf", out.getvalue()).get_json()
    body = client.get(data["url"]).get_data()
    cleaned = pikepdf.open(io.BytesIO(body))
    assert len(cleaned.attachments) == 0 and "/AA" not in cleaned.pages[0] and "/OpenAction" not in cleaned.Root
    assert b"Amina" not in body and b"submitForm" not in body and b"app.alert" not in body


def test_a_large_table_is_sent_as_kept_under_its_strong_etag_even_to_a_gzip_client(as_user):
    moussa = as_user("moussa")
    table = b"place,count\n" + b"".join(b"Agadez,%d\n" % i for i in range(2000))  # compressible, over 1 KB
    data = api_upload(moussa, PUBLIC, "counts.csv", table).get_json()
    served = moussa.get(data["url"], headers={"Accept-Encoding": "gzip"})
    assert served.status_code == 200 and "Content-Encoding" not in served.headers
    assert served.get_data() == table
    etag, weak = served.get_etag()
    assert etag == data["sha256"] and not weak


def test_a_cached_note_page_shows_a_new_file_and_loses_a_removed_one(as_user, client):
    first = client.get(f"/notes/{PUBLIC}").get_data(as_text=True)  # an anonymous page, kept whole
    assert "counts-for-the-page.csv" not in first
    moussa = as_user("moussa")
    data = api_upload(moussa, PUBLIC, "counts-for-the-page.csv", b"place,count\nKayes,4\n").get_json()
    assert data["name"] in client.get(f"/notes/{PUBLIC}").get_data(as_text=True)
    token = csrf_token(moussa, f"/notes/{PUBLIC}/files")
    assert moussa.delete(f"/api/notes/{PUBLIC}/attachments/{data['name']}",
                         headers={"X-CSRFToken": token}).status_code == 200
    assert data["name"] not in client.get(f"/notes/{PUBLIC}").get_data(as_text=True)
