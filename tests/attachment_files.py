"""Test files built with the libraries themselves: a phone photo with a GPS tag, a PDF with an author, a
disguised HTML page. Shared by the attachment tests and the browser journey."""
from __future__ import annotations

import io


def photo_with_gps(width: int = 2400, height: int = 1800, orientation: int = 6) -> bytes:
    """A JPEG as a phone writes it: EXIF with a GPS position, a camera, an owner, an orientation; and XMP."""
    from PIL import Image
    img = Image.new("RGB", (width, height), (40, 120, 200))
    img.paste((250, 250, 0), (0, 0, width // 4, height // 8))  # a mark in a corner, to see the rotation
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"
    exif[0x013B] = "Owner Fieldworker"  # Artist
    exif[0xA431] = "SERIAL12345"  # BodySerialNumber (in the Exif IFD, written at the top for the test)
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: (16.0, 58.0, 12.0), 3: "E", 4: (7.0, 59.0, 30.0)}  # GPS: Agadez
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), xmp=b"<x:xmpmeta><rdf:Description>Owner Fieldworker</rdf:Description>"
                                                b"</x:xmpmeta>", quality=80)
    return out.getvalue()


def pdf_with_author(words: str = "Referral pathway quillomet for transit centres", author: str = "Jane Fieldworker",
                    javascript: bool = True) -> bytes:
    """A one-page PDF with text, an author in its document information and XMP, and an OpenAction script."""
    import pikepdf
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(300, 200))
    page = pdf.pages[0]
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 10 Tf 10 100 Td (" + words.encode("latin-1") + b") Tj ET")
    pdf.docinfo["/Author"] = author
    pdf.docinfo["/Creator"] = "Field Office Laptop"
    pdf.docinfo["/Title"] = "Internal SOP"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [author]
    if javascript:
        pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x')"))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


DISGUISED_HTML = b"<!DOCTYPE html><html><body><script>fetch('/account')</script>Referral form</body></html>"
