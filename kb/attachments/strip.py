"""Metadata taken out of an upload before anything is written, with the libraries made for it.

Images (Pillow): the EXIF orientation is applied first, so photos stay upright; then the pixels alone are
saved again, without EXIF, XMP, IPTC or comments (GPS position, camera serial, owner, dates); images larger
than MAX_SIDE are scaled down, and a thumbnail no larger than THUMB_SIDE is made for the note page.
PDFs (pikepdf): the document information (author, creator, producer, title, dates) and every XMP stream go,
with embedded files, JavaScript, automatic actions and file-attachment annotations. No Flask."""
from __future__ import annotations

import io
from dataclasses import dataclass

from ..errors import N_, Message, UnsupportedFile

MAX_SIDE = 1600
THUMB_SIDE = 400
MAX_PIXELS = 60_000_000  # a larger image is refused before it is decoded (a "decompression bomb")
_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
NOT_READABLE = N_("The file could not be read as %(kind)s; it may be damaged or disguised. Nothing was saved.")


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    thumb: bytes | None = None  # images only


def _refuse(kind: str) -> UnsupportedFile:
    return UnsupportedFile(Message(NOT_READABLE, kind=kind.upper()))


def _save(img, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "jpeg":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(out, "JPEG", quality=85, optimize=True)
    elif kind == "png":
        if img.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
            img = img.convert("RGBA")
        img.save(out, "PNG", optimize=True)
    else:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() or img.mode == "P" else "RGB")
        img.save(out, "WEBP", quality=80)
    return out.getvalue()


def clean_image(kind: str, data: bytes) -> Cleaned:
    """The image upright, scaled down to MAX_SIDE, with no metadata at all; and its thumbnail."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[kind]]) as img:
            if img.width * img.height > MAX_PIXELS:
                raise UnsupportedFile(Message(N_("The image is too large (%(n)s million pixels); the most is "
                                                 "%(max)s million. Nothing was saved."),
                                              n=round(img.width * img.height / 1e6), max=MAX_PIXELS // 1_000_000))
            img.load()
            upright = ImageOps.exif_transpose(img)  # the orientation applied before the EXIF goes
    except UnsupportedFile:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise _refuse(kind) from None
    try:
        # the pixels alone: a fresh image carries no info (exif, xmp, icc, comments, dpi) from the upload
        pixels = Image.new(upright.mode, upright.size)
        pixels.paste(upright)
        if upright.mode == "P" and upright.getpalette():
            pixels.putpalette(upright.getpalette())
        if pixels.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "CMYK"):  # 16-bit, float: to 8 bits a channel
            pixels = pixels.convert("RGB")
        if max(pixels.size) > MAX_SIDE:
            pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        thumb = pixels.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        return Cleaned(_save(pixels, kind), _save(thumb, kind))
    except (OSError, ValueError):  # a mode or size the encoder refuses
        raise _refuse(kind) from None


def _drop(obj, *keys: str) -> None:
    for key in keys:
        if key in obj:
            del obj[key]


def clean_pdf(data: bytes) -> Cleaned:
    """The PDF without document information, XMP, embedded files, JavaScript or automatic actions."""
    import pikepdf
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, pikepdf.PasswordError, ValueError, OSError):
        raise _refuse("pdf") from None
    with pdf:
        try:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            root = pdf.Root
            _drop(root, "/Metadata", "/OpenAction", "/AA", "/PieceInfo")
            if "/Names" in root:
                _drop(root.Names, "/EmbeddedFiles", "/JavaScript")
            for obj in pdf.objects:  # every page, image and form: their own XMP and actions
                if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    continue
                _drop(obj, "/Metadata", "/AA", "/PieceInfo", "/AF")  # AF: a PDF 2.0 object's associated files
                if obj.get("/Type") == pikepdf.Name.Filespec:
                    _drop(obj, "/EF", "/RF")  # a file specification keeps its name, never the file
                if obj.get("/S") in (pikepdf.Name.JavaScript, pikepdf.Name.Launch):
                    _drop(obj, "/JS", "/F", "/Win", "/Mac", "/Unix")
                    obj.S = pikepdf.Name.GoTo  # a harmless action in its place
                    obj.D = pikepdf.Array([])
            for page in pdf.pages:
                if "/Annots" in page:
                    kept = [a for a in page.Annots if a.get("/Subtype") != pikepdf.Name.FileAttachment]
                    page.Annots = pikepdf.Array(kept)
            out = io.BytesIO()
            pdf.save(out, fix_metadata_version=False, deterministic_id=True)
        except (pikepdf.PdfError, ValueError, KeyError, TypeError, RecursionError):
            raise _refuse("pdf") from None
    return Cleaned(out.getvalue())


def clean(kind: str, data: bytes) -> Cleaned:
    """The file as kb keeps it: metadata taken out of images and PDFs; CSV text as sent."""
    if kind in _FORMATS:
        return clean_image(kind, data)
    if kind == "pdf":
        return clean_pdf(data)
    return Cleaned(data)
