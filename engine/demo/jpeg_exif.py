"""Small helpers to write JPEGs the way phone cameras do.

Shared by make_demo_gallery and tests/tools/make_phone_gallery:
  * store pixels rotated and set EXIF Orientation (phones save the sensor's
    landscape pixels and let the viewer rotate);
  * embed a JPEG thumbnail in IFD1 (what a gallery scanner can read without
    decoding the full image);
  * read back what was written, to verify it.

The EXIF block is serialized here rather than with piexif: piexif omits the
next-IFD pointer of the Exif and GPS IFDs and leaves values at odd offsets
(exiftool -validate flags both), and test data for an EXIF reader should be
well-formed unless it is broken on purpose.
"""

import io
import struct

from PIL import Image

# Orientation tag -> transpose that turns the upright picture into the stored
# pixels. Orientation 6 means "rotate 90 deg clockwise to display", so the
# stored pixels are the upright picture turned 90 deg counter-clockwise
# (PIL's ROTATE_90 is counter-clockwise).
_STORE = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}

MAX_APP1 = 65533  # a JPEG APP1 segment (EXIF) cannot be larger

# TIFF field types
BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 1, 2, 3, 4, 5, 7
_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1}

# Tags we write, by IFD, with their TIFF type.
IFD0_TAGS = {
    "Make": (0x010F, ASCII), "Model": (0x0110, ASCII), "Orientation": (0x0112, SHORT),
    "XResolution": (0x011A, RATIONAL), "YResolution": (0x011B, RATIONAL), "ResolutionUnit": (0x0128, SHORT),
    "DateTime": (0x0132, ASCII), "YCbCrPositioning": (0x0213, SHORT),
}
EXIF_TAGS = {
    "ExposureTime": (0x829A, RATIONAL), "FNumber": (0x829D, RATIONAL), "ISOSpeedRatings": (0x8827, SHORT),
    "ExifVersion": (0x9000, UNDEFINED), "DateTimeOriginal": (0x9003, ASCII), "DateTimeDigitized": (0x9004, ASCII),
    "ComponentsConfiguration": (0x9101, UNDEFINED), "Flash": (0x9209, SHORT), "FocalLength": (0x920A, RATIONAL),
    "FlashpixVersion": (0xA000, UNDEFINED), "ColorSpace": (0xA001, SHORT), "PixelXDimension": (0xA002, LONG),
    "PixelYDimension": (0xA003, LONG),
}
GPS_TAGS = {
    "GPSVersionID": (0x0000, BYTE), "GPSLatitudeRef": (0x0001, ASCII), "GPSLatitude": (0x0002, RATIONAL),
    "GPSLongitudeRef": (0x0003, ASCII), "GPSLongitude": (0x0004, RATIONAL), "GPSAltitudeRef": (0x0005, BYTE),
    "GPSAltitude": (0x0006, RATIONAL), "GPSTimeStamp": (0x0007, RATIONAL), "GPSMapDatum": (0x0012, ASCII),
    "GPSDateStamp": (0x001D, ASCII),
}
IFD1_TAGS = {
    "Compression": (0x0103, SHORT), "XResolution": (0x011A, RATIONAL), "YResolution": (0x011B, RATIONAL),
    "ResolutionUnit": (0x0128, SHORT), "JPEGInterchangeFormat": (0x0201, LONG),
    "JPEGInterchangeFormatLength": (0x0202, LONG),
}
EXIF_POINTER, GPS_POINTER = 0x8769, 0x8825
# What a real camera always writes in the Exif IFD.
IFD0_REQUIRED = {"XResolution": (72, 1), "YResolution": (72, 1), "ResolutionUnit": 2, "YCbCrPositioning": 1}
EXIF_REQUIRED = {"ExifVersion": b"0232", "ComponentsConfiguration": b"\x01\x02\x03\x00",
                 "FlashpixVersion": b"0100", "ColorSpace": 1}


def store_rotated(upright, orientation):
    """Pixels to save so a viewer that applies `orientation` shows `upright`."""
    t = _STORE[orientation]
    return upright.transpose(t) if t is not None else upright


def thumb_size(w, h, long_side):
    """Aspect-matched thumbnail size whose long side is `long_side`."""
    if w >= h:
        return long_side, max(1, round(h * long_side / w))
    return max(1, round(w * long_side / h)), long_side


def thumbnail_jpeg(stored, long_side, quality=80):
    """JPEG bytes of a thumbnail of the *stored* pixels (same rotation as the
    main image, as cameras do: the Orientation tag applies to both)."""
    # reducing_gap: box-reduce first, so a 12 MP image thumbnails fast.
    size = thumb_size(*stored.size, long_side)
    t = stored.convert("RGB").resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    # Thumbnails must fit into the 64 KB APP1 segment with the rest of the EXIF.
    for q in (quality, 70, 60, 50):
        buf = io.BytesIO()
        t.save(buf, "JPEG", quality=q)
        if buf.tell() < 60000:
            return buf.getvalue()
    return buf.getvalue()


# ---------------------------------------------------------------- writing


def _encode(typ, value):
    """(count, little-endian bytes) of one tag value."""
    if typ == ASCII:
        raw = (value.encode("latin-1", "replace") if isinstance(value, str) else bytes(value)) + b"\x00"
        return len(raw), raw
    if typ in (BYTE, UNDEFINED):
        raw = bytes(value) if not isinstance(value, int) else bytes([value])
        return len(raw), raw
    if typ == RATIONAL:
        vals = [value] if isinstance(value[0], int) else list(value)
        return len(vals), b"".join(struct.pack("<II", int(n), int(d)) for n, d in vals)
    vals = [value] if isinstance(value, int) else list(value)
    fmt = "<H" if typ == SHORT else "<I"
    return len(vals), b"".join(struct.pack(fmt, v) for v in vals)


def _ifd_layout(entries):
    """Size of an IFD: count, 12-byte entries, next pointer, word-aligned values."""
    size = 2 + 12 * len(entries) + 4
    for _, typ, value in entries:
        n = len(_encode(typ, value)[1])
        if n > 4:
            size += n + (n & 1)
    return size


def _ifd_bytes(entries, offset, next_ifd):
    """Serialize an IFD located at `offset` (relative to the TIFF header)."""
    entries = sorted(entries)  # TIFF wants ascending tag order
    head = struct.pack("<H", len(entries))
    data = b""
    data_off = offset + 2 + 12 * len(entries) + 4
    for tag, typ, value in entries:
        count, raw = _encode(typ, value)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", data_off + len(data))
            data += raw + (b"\x00" if len(raw) & 1 else b"")
        head += struct.pack("<HHI", tag, typ, count) + field
    return head + struct.pack("<I", next_ifd) + data


def _entries(values, table):
    unknown = set(values) - set(table)
    if unknown:
        raise KeyError(f"no type known for tags {sorted(unknown)}")
    return [(table[k][0], table[k][1], v) for k, v in values.items()]


def exif_bytes(ifd0=None, exif=None, gps=None, thumbnail=None):
    """APP1 payload ('Exif\\0\\0' + little-endian TIFF) from tag-name dicts.

    The tags every camera writes (resolution, ExifVersion, ...) are added.
    With `thumbnail` (JPEG bytes), IFD1 gets Compression=6 and the
    JPEGInterchangeFormat offset/length of the bytes that follow it."""
    ifd0 = _entries({**IFD0_REQUIRED, **(ifd0 or {})}, IFD0_TAGS)
    sub = _entries({**EXIF_REQUIRED, **exif}, EXIF_TAGS) if exif else []
    gps_e = _entries(gps, GPS_TAGS) if gps else []
    if sub:
        ifd0.append((EXIF_POINTER, LONG, 0))
    if gps_e:
        ifd0.append((GPS_POINTER, LONG, 0))
    ifd1 = []
    if thumbnail:
        ifd1 = _entries({"Compression": 6, "XResolution": (72, 1), "YResolution": (72, 1), "ResolutionUnit": 2,
                         "JPEGInterchangeFormat": 0, "JPEGInterchangeFormatLength": len(thumbnail)}, IFD1_TAGS)
    # Pointer values are inline LONGs, so sizes are known before offsets.
    off0 = 8
    off_exif = off0 + _ifd_layout(ifd0)
    off_gps = off_exif + (_ifd_layout(sub) if sub else 0)
    off1 = off_gps + (_ifd_layout(gps_e) if gps_e else 0)
    off_thumb = off1 + (_ifd_layout(ifd1) if ifd1 else 0)
    ifd0 = [(t, ty, off_exif if t == EXIF_POINTER else off_gps if t == GPS_POINTER else v) for t, ty, v in ifd0]
    ifd1 = [(t, ty, off_thumb if t == 0x0201 else v) for t, ty, v in ifd1]
    tiff = b"II*\x00" + struct.pack("<I", off0)
    tiff += _ifd_bytes(ifd0, off0, off1 if ifd1 else 0)
    if sub:
        tiff += _ifd_bytes(sub, off_exif, 0)
    if gps_e:
        tiff += _ifd_bytes(gps_e, off_gps, 0)
    if ifd1:
        tiff += _ifd_bytes(ifd1, off1, 0) + thumbnail
    assert not ifd1 or len(tiff) == off_thumb + len(thumbnail)
    data = b"Exif\x00\x00" + tiff
    if len(data) > MAX_APP1:
        raise ValueError(f"EXIF block too large ({len(data)} bytes)")
    return data


def save_jpeg(img, path, quality, exif=None):
    """Baseline JPEG; `exif` is an exif_bytes() payload or None for no APP1."""
    rgb = img.convert("RGB")
    # Pillow carries the source's JPEG comment (wallpaper credits, "Created
    # with GIMP") through resizes; cameras write none. Credits: LICENSES.md.
    rgb.info.pop("comment", None)
    kw = {"quality": quality}
    if exif:
        kw["exif"] = exif
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", **kw)
    data = buf.getvalue()
    if exif and data[2:4] == b"\xff\xe0":
        # Cameras start with SOI + APP1 Exif; libjpeg adds a JFIF APP0 first.
        data = data[:2] + data[4 + int.from_bytes(data[4:6], "big") :]
    if hasattr(path, "write"):
        path.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


# ---------------------------------------------------------------- reading


def _plain(v):
    """Pillow value -> what exif_bytes accepts (rationals as (num, den))."""
    if hasattr(v, "numerator") and not isinstance(v, int):
        return (int(v.numerator), int(v.denominator))
    if isinstance(v, tuple):
        return tuple(_plain(x) for x in v)
    return v


def read_camera_tags(path):
    """Camera tags of an existing JPEG worth keeping (Make, Model, dates,
    exposure, GPS), as tag-name dicts for exif_bytes. Read with Pillow,
    which keeps ASCII values whole even without a NUL terminator."""
    with Image.open(path) as im:
        ex = im.getexif()
        sub, gps = ex.get_ifd(EXIF_POINTER), ex.get_ifd(GPS_POINTER)
    pick = lambda d, table, names: {n: _plain(d[table[n][0]]) for n in names if table[n][0] in d}  # noqa: E731
    ifd0 = pick(ex, IFD0_TAGS, ["Make", "Model"])
    exif = pick(sub, EXIF_TAGS, ["DateTimeOriginal", "DateTimeDigitized", "ExposureTime", "FNumber",
                                 "ISOSpeedRatings", "FocalLength", "Flash"])
    gps = pick(gps, GPS_TAGS, list(GPS_TAGS))
    return ifd0, exif, gps


def read_ifd1_thumbnail(path):
    """Return (orientation, thumbnail PIL image or None) as a reader would see
    them, using only Pillow: IFD1 offsets are relative to the TIFF header that
    follows the 'Exif\\0\\0' marker in APP1."""
    with Image.open(path) as im:
        ex = im.getexif()
        raw = im.info.get("exif", b"")
    ifd1 = ex.get_ifd(-1)  # ExifTags.IFD.IFD1
    off, n = ifd1.get(0x0201), ifd1.get(0x0202)
    thumb = None
    if off and n:
        tiff = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
        thumb = Image.open(io.BytesIO(tiff[off : off + n]))
        thumb.load()
    return ex.get(0x0112), thumb
