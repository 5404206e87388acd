#!/usr/bin/env python3
"""Seed inputs for the fuzz targets (engine/fuzz/fuzz_targets), made by code, stdlib only.

    gen_seeds.py OUT            OUT/{decode,exif,thumbnail}/: inputs in each target's layout
                                (a selector byte, then the bytes; see the targets' docs)
    gen_seeds.py --files OUT    the plain image files, named <what>.<ext>
                                (engine/tests/fixtures/fuzz holds a selection of them)

Images are tiny and built from first principles, so every structure the decoders parse is
there to mutate: baseline, progressive, 4:2:0, grayscale, restart-interval and truncated JPEGs
(DC plus a little AC per 8x8 block, hand-made Huffman tables), JPEGs whose APP1 carries a
full EXIF TIFF (IFD0, Exif and GPS sub-IFDs, little- and big-endian, an IFD1 thumbnail that
matches the main image so the EXIF-thumbnail path is taken), PNGs (RGB, RGBA, palette with
tRNS, 16-bit grey, Adam7, eXIf), GIFs (LZW, two frames), lossless WebPs (VP8L, VP8X + EXIF),
and headers of formats the engine recognises but refuses (HEIC, AVIF, TIFF, BMP).

The thumbnail scene is the one `precious_engine_fuzz::gradient` draws in Rust (the thumbnail
target's main image), so the seeds' thumbnails match it.
"""

import os
import struct
import sys
import zlib

# ---------------------------------------------------------------------------------------------
# Scenes


def gradient(u, v):
    """RGB at normalised pixel-centre coordinates (u, v): as `gradient` in engine/fuzz/src/lib.rs."""
    return (40.0 + 170.0 * u, 40.0 + 170.0 * v, 200.0 - 60.0 * (u + v))


def ycc(rgb):
    r, g, b = rgb
    return (
        0.299 * r + 0.587 * g + 0.114 * b,
        -0.168736 * r - 0.331264 * g + 0.5 * b + 128.0,
        0.5 * r - 0.418688 * g - 0.081312 * b + 128.0,
    )


def clamp8(x):
    return max(0, min(255, int(x)))


# ---------------------------------------------------------------------------------------------
# JPEG: DC (and one small AC coefficient on some blocks), canonical Huffman tables


class Bits:
    """MSB-first bit writer with JPEG byte stuffing."""

    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)
                self.acc = 0
                self.n = 0

    def flush(self):
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1-bits


def huff_codes(bits, vals):
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[vals[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


# The standard luminance DC table (JPEG Annex K.3), categories 0..11.
DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
DC_VALS = list(range(12))
# A small AC table: EOB, (0,1), (0,2), (1,1), ZRL.
AC_BITS = [0, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
AC_VALS = [0x00, 0x01, 0x02, 0x11, 0xF0]
DC_CODES = huff_codes(DC_BITS, DC_VALS)
AC_CODES = huff_codes(AC_BITS, AC_VALS)
QUANT = [2] + [16] * 63


def category(v):
    v = abs(v)
    n = 0
    while v:
        n += 1
        v >>= 1
    return n


def put_value(bw, v, size):
    if size:
        bw.put(v if v >= 0 else v + (1 << size) - 1, size)


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(width, height, scene=gradient, gray=False, subsample=False, progressive=False,
         restart=0, app1=None, texture=True, eoi=True):
    """A JPEG whose 8x8 blocks hold the scene's block means (and, with `texture`, a small
    horizontal AC coefficient on every third block)."""
    # (id, h, v): 4:2:0 halves the chroma both ways.
    if gray:
        comps = [(1, 1, 1)]
    else:
        comps = [(1, 2, 2) if subsample else (1, 1, 1), (2, 1, 1), (3, 1, 1)]
    hmax = max(c[1] for c in comps)
    vmax = max(c[2] for c in comps)
    mcu_w, mcu_h = 8 * hmax, 8 * vmax
    mcus_x, mcus_y = -(-width // mcu_w), -(-height // mcu_h)

    def block_dc(ci, h, v, bx, by):
        # Block (bx, by) of component ci covers (8*bx*hmax/h .. ) in image pixels.
        sx, sy = hmax // h, vmax // v
        cx = (8 * bx + 4) * sx
        cy = (8 * by + 4) * sy
        u = min(cx, width - 0.5) / width
        w = min(cy, height - 0.5) / height
        value = ycc(scene(u, w))[0 if gray else ci]
        return round(8 * (value - 128.0) / QUANT[0])

    out = bytearray(b"\xFF\xD8")
    out += segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if app1 is not None:
        out += segment(0xE1, app1)
    out += segment(0xDB, b"\x00" + bytes(QUANT))
    sof = struct.pack(">BHHB", 8, height, width, len(comps))
    for cid, h, v in comps:
        sof += bytes([cid, (h << 4) | v, 0])
    out += segment(0xC2 if progressive else 0xC0, sof)
    out += segment(0xC4, b"\x00" + bytes(DC_BITS) + bytes(DC_VALS))
    if not progressive:
        out += segment(0xC4, b"\x10" + bytes(AC_BITS) + bytes(AC_VALS))
    if restart:
        out += segment(0xDD, struct.pack(">H", restart))
    sos = bytes([len(comps)])
    for cid, _, _ in comps:
        sos += bytes([cid, 0x00])
    sos += bytes([0, 0, 0]) if progressive else bytes([0, 63, 0])
    out += segment(0xDA, sos)

    bw = Bits()
    pred = [0] * len(comps)
    n = 0
    for my in range(mcus_y):
        for mx in range(mcus_x):
            if restart and n and n % restart == 0:
                bw.flush()
                bw.out += bytes([0xFF, 0xD0 + (n // restart - 1) % 8])
                pred = [0] * len(comps)
            for ci, (_, h, v) in enumerate(comps):
                for yy in range(v):
                    for xx in range(h):
                        bx, by = mx * h + xx, my * v + yy
                        dc = block_dc(ci, h, v, bx, by)
                        diff = dc - pred[ci]
                        pred[ci] = dc
                        s = category(diff)
                        bw.put(*DC_CODES[s])
                        put_value(bw, diff, s)
                        if progressive:
                            continue
                        if texture and ci == 0 and (bx + by) % 3 == 0:
                            ac = 1 if (bx // 3) % 2 else -2
                            s = category(ac)
                            bw.put(*AC_CODES[s])  # run 0, size s
                            put_value(bw, ac, s)
                        bw.put(*AC_CODES[0x00])  # EOB
            n += 1
    bw.flush()
    out += bw.out
    if eoi:
        out += b"\xFF\xD9"
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# EXIF: a TIFF structure with IFD0, Exif and GPS sub-IFDs and an IFD1 thumbnail

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED, SRATIONAL = 1, 2, 3, 4, 5, 7, 10
TYPE_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1, SRATIONAL: 8}


def tiff(ifd0, exif=None, gps=None, thumbnail=None, big_endian=False):
    """ifd0/exif/gps: lists of (tag, type, values); values is bytes (ASCII, UNDEFINED) or a
    list of ints / (num, den) pairs. Laid out: header | IFD0 | Exif | GPS | IFD1 | thumbnail."""
    e = ">" if big_endian else "<"

    def pack_values(typ, values):
        if isinstance(values, bytes):
            return values, len(values)
        fmt = {BYTE: "B", SHORT: "H", LONG: "I"}.get(typ)
        if fmt:
            return struct.pack(e + fmt * len(values), *values), len(values)
        flat = [x for pair in values for x in pair]
        return struct.pack(e + ("I" if typ == RATIONAL else "i") * len(flat), *flat), len(values)

    ifds = [list(ifd0)]
    if exif:
        ifds[0].append((0x8769, LONG, [0]))  # patched below
    if gps:
        ifds[0].append((0x8825, LONG, [0]))
    names = ["ifd0"] + (["exif"] if exif else []) + (["gps"] if gps else [])
    ifds += [x for x in (exif, gps) if x]
    if thumbnail is not None:
        names.append("ifd1")
        ifds.append([(0x0103, SHORT, [6]), (0x0201, LONG, [0]), (0x0202, LONG, [len(thumbnail)])])

    def size(entries):
        data = sum(len(pack_values(t, v)[0]) + 1 & ~1 for _, t, v in entries
                   if len(pack_values(t, v)[0]) > 4)
        return 2 + 12 * len(entries) + 4 + data

    offsets, at = {}, 8
    for name, entries in zip(names, ifds):
        offsets[name] = at
        at += size(entries)
    thumb_at = at

    def patched(tag, typ, values):
        target = {0x8769: "exif", 0x8825: "gps"}.get(tag)
        if target and typ == LONG:
            return [offsets[target]]
        if tag == 0x0201 and thumbnail is not None:
            return [thumb_at]
        return values

    out = bytearray(b"MM\0*" if big_endian else b"II*\0") + struct.pack(e + "I", 8)
    for i, (name, entries) in enumerate(zip(names, ifds)):
        entries = sorted(entries, key=lambda x: x[0])
        data_at = offsets[name] + 2 + 12 * len(entries) + 4
        body, data = bytearray(struct.pack(e + "H", len(entries))), bytearray()
        for tag, typ, values in entries:
            raw, count = pack_values(typ, patched(tag, typ, values))
            body += struct.pack(e + "HHI", tag, typ, count)
            if len(raw) <= 4:
                body += raw.ljust(4, b"\0")
            else:
                body += struct.pack(e + "I", data_at + len(data))
                data += raw + (b"\0" if len(raw) % 2 else b"")
        # IFD0 links to IFD1; the sub-IFDs and IFD1 end the chain.
        nxt = offsets["ifd1"] if name == "ifd0" and "ifd1" in offsets else 0
        body += struct.pack(e + "I", nxt)
        out += body + data
        assert len(out) == (offsets[names[i + 1]] if i + 1 < len(names) else thumb_at)
    if thumbnail is not None:
        out += thumbnail
    return bytes(out)


def camera_tiff(orientation=1, thumbnail=None, big_endian=False, gps=True):
    ifd0 = [
        (0x010F, ASCII, b"FuzzCam\0"),
        (0x0110, ASCII, b"Seed 1\0"),
        (0x0112, SHORT, [orientation]),
        (0x011A, RATIONAL, [(72, 1)]),
        (0x011B, RATIONAL, [(72, 1)]),
        (0x0128, SHORT, [2]),
        (0x0132, ASCII, b"2021:07:04 18:03:11\0"),
    ]
    exif = [
        (0x829A, RATIONAL, [(1, 250)]),
        (0x829D, RATIONAL, [(28, 10)]),
        (0x8827, SHORT, [100]),
        (0x9000, UNDEFINED, b"0232"),
        (0x9003, ASCII, b"2021:07:04 18:03:11\0"),
        (0x9011, ASCII, b"+02:00\0"),
        (0x9204, SRATIONAL, [(-1, 3)]),
        (0x9286, UNDEFINED, b"ASCII\0\0\0seed"),
    ]
    gps_ifd = [
        (0x0000, BYTE, [2, 3, 0, 0]),
        (0x0001, ASCII, b"N\0"),
        (0x0002, RATIONAL, [(48, 1), (51, 1), (2910, 100)]),
        (0x0003, ASCII, b"E\0"),
        (0x0004, RATIONAL, [(2, 1), (21, 1), (700, 100)]),
    ] if gps else None
    return tiff(ifd0, exif, gps_ifd, thumbnail, big_endian)


def exif_app1(tiff_bytes):
    return b"Exif\0\0" + tiff_bytes


# ---------------------------------------------------------------------------------------------
# PNG


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, color_type, depth=8, pixel=None, palette=None, trns=None,
        interlace=False, exif=None):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    bpp = channels * depth // 8

    def row(xs, y):
        raw = bytearray()
        for x in xs:
            for c in pixel(x, y):
                raw += c.to_bytes(depth // 8, "big")
        return raw

    passes = ([(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
               (1, 0, 2, 2), (0, 1, 1, 2)] if interlace else [(0, 0, 1, 1)])
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        xs = list(range(x0, width, dx))
        if not xs:
            continue
        prev = None
        for y in range(y0, height, dy):
            line = row(xs, y)
            if prev is None:
                raw += b"\x01" + bytes(  # Sub filter
                    (line[i] - (line[i - bpp] if i >= bpp else 0)) & 0xFF
                    for i in range(len(line)))
            else:
                raw += b"\x02" + bytes((a - b) & 0xFF for a, b in zip(line, prev))  # Up
            prev = line
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlace)))
    if palette:
        out += png_chunk(b"PLTE", bytes(c for rgb in palette for c in rgb))
    if trns:
        out += png_chunk(b"tRNS", trns)
    if exif:
        out += png_chunk(b"eXIf", exif)
    out += png_chunk(b"tEXt", b"Comment\0fuzz seed")
    out += png_chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    return out + png_chunk(b"IEND", b"")


# ---------------------------------------------------------------------------------------------
# GIF


def lzw(indices, min_size):
    clear, end = 1 << min_size, (1 << min_size) + 1
    size, nxt = min_size + 1, end + 1
    table = {(i,): i for i in range(clear)}
    acc = nbits = 0
    out = bytearray()

    def emit(code):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    emit(clear)
    w = ()
    for k in indices:
        wk = w + (k,)
        if wk in table:
            w = wk
            continue
        emit(table[w])
        if nxt < 4096:
            table[wk] = nxt
            nxt += 1
            if nxt > (1 << size) and size < 12:
                size += 1
        else:
            emit(clear)
            table = {(i,): i for i in range(clear)}
            size, nxt = min_size + 1, end + 1
        w = (k,)
    if w:
        emit(table[w])
    emit(end)
    if nbits:
        out.append(acc & 0xFF)
    blocks = bytearray([min_size])
    for i in range(0, len(out), 255):
        blocks += bytes([len(out[i:i + 255])]) + out[i:i + 255]
    return bytes(blocks + b"\0")


def gif(width, height, frames, palette):
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF0 | 2, 0, 0))
    out += bytes(c for rgb in palette for c in rgb)  # 8 colours
    out += b"\x21\xFF\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for pixels in frames:
        out += b"\x21\xF9\x04\x04\x0a\x00\x00\x00"  # 0.1 s, keep
        out += b"\x2C" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        out += lzw(pixels, 3)
    return bytes(out + b"\x3B")


# ---------------------------------------------------------------------------------------------
# WebP lossless (VP8L): simple prefix codes, one bit per pixel for green


class LsbBits:
    def __init__(self):
        self.acc = self.n = 0
        self.out = bytearray()

    def put(self, value, length):
        self.acc |= value << self.n
        self.n += length
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def done(self):
        if self.n:
            self.out.append(self.acc & 0xFF)
        return bytes(self.out)


def vp8l(width, height, greens=(40, 200), rgb_rest=(90, 160), pattern=None):
    bw = LsbBits()
    bw.put(0x2F, 8)
    bw.put(width - 1, 14)
    bw.put(height - 1, 14)
    bw.put(0, 1)  # alpha unused
    bw.put(0, 3)  # version
    bw.put(0, 1)  # no transform
    bw.put(0, 1)  # no colour cache
    bw.put(0, 1)  # no meta prefix codes

    def simple(symbols):
        bw.put(1, 1)  # simple code
        bw.put(len(symbols) - 1, 1)
        bw.put(1, 1)  # first symbol: 8 bits
        bw.put(symbols[0], 8)
        if len(symbols) == 2:
            bw.put(symbols[1], 8)

    simple(sorted(greens))  # green (literals only)
    simple([rgb_rest[0]])  # red
    simple([rgb_rest[1]])  # blue
    simple([255])  # alpha
    simple([0])  # distance
    pattern = pattern or (lambda x, y: (x // 4 + y // 4) % 2)
    for y in range(height):
        for x in range(width):
            bw.put(pattern(x, y), 1)
    return bw.done()


def riff(chunks):
    body = b"WEBP"
    for kind, data in chunks:
        body += kind + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_lossless(width, height, exif=None):
    data = vp8l(width, height)
    if exif is None:
        return riff([(b"VP8L", data)])
    vp8x = bytes([0x08, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff([(b"VP8X", vp8x), (b"VP8L", data), (b"EXIF", exif)])


# ---------------------------------------------------------------------------------------------
# The seed set

THUMB_SIZE = (344, 258)  # 4:3 like the thumbnail target's 512x384 main image, short side >= 256


def files():
    """(name, extension, bytes) of every seed file."""
    grad = lambda w, h: (lambda x, y: tuple(clamp8(c) for c in gradient((x + .5) / w, (y + .5) / h)))
    thumb = jpeg(*THUMB_SIZE, texture=False)
    out = [
        ("jpeg-baseline-64x48", "jpg", jpeg(64, 48)),
        ("jpeg-gray-odd-37x29", "jpg", jpeg(37, 29, gray=True)),
        ("jpeg-420-restart-75x53", "jpg", jpeg(75, 53, subsample=True, restart=3)),
        ("jpeg-progressive-dc-40x40", "jpg", jpeg(40, 40, progressive=True)),
        ("jpeg-truncated-64x48", "jpg", jpeg(64, 48, eoi=False)[:-40]),
        # A 1/2-scale DCT decode (shorter side 512 / 2 = 256).
        ("jpeg-dct-scaled-gray-768x512", "jpg", jpeg(768, 512, gray=True, texture=False)),
        # Camera-like: EXIF with sub-IFDs and a matching IFD1 thumbnail (the thumbnail path).
        ("jpeg-exif-thumbnail-512x384", "jpg",
         jpeg(512, 384, texture=False, app1=exif_app1(camera_tiff(1, thumb)))),
        ("jpeg-exif-be-orientation6-64x48", "jpg",
         jpeg(64, 48, app1=exif_app1(camera_tiff(6, big_endian=True)))),
        # A stale thumbnail (another scene): the thumbnail is checked and refused.
        ("jpeg-exif-stale-thumbnail-512x384", "jpg",
         jpeg(512, 384, texture=False, app1=exif_app1(camera_tiff(
             3, jpeg(*THUMB_SIZE, texture=False, scene=lambda u, v: (200 - 150 * v, 90, 40 + 150 * u)),
             gps=False)))),
        ("png-rgb-exif-24x16", "png", png(24, 16, 2, pixel=grad(24, 16),
                                             exif=camera_tiff(8, big_endian=True))),
        ("png-rgba-adam7-19x13", "png", png(19, 13, 6, interlace=True,
                                             pixel=lambda x, y: grad(19, 13)(x, y) + (x * 13 % 256,))),
        ("png-palette-trns-16x16", "png", png(16, 16, 3, palette=[(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)],
                                              trns=b"\x00\x80", pixel=lambda x, y: ((x ^ y) & 3,))),
        ("png-gray16-alpha-8x8", "png", png(8, 8, 4, depth=16, pixel=lambda x, y: (x * 8000, 65535 - y * 8000))),
        ("gif-2frames-20x12", "gif", gif(20, 12, [
            [(x // 3 + y // 3) % 8 for y in range(12) for x in range(20)],
            [(x * y) % 8 for y in range(12) for x in range(20)]],
            [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255)])),
        ("webp-lossless-16x12", "webp", webp_lossless(16, 12)),
        ("webp-vp8x-exif-12x20", "webp", webp_lossless(12, 20, exif=camera_tiff(6, gps=False))),
        ("heic-header", "heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(40)),
        ("avif-header", "avif", b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf" + bytes(40)),
        ("tiff-header", "tif", camera_tiff(1, gps=False)),
        ("bmp-header", "bmp", b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + bytes(60)),
    ]
    return out, thumb


def selectors(ext, big):
    """Decode-target selectors: extension hint (bits 0-2), strategy (3-4), codec (5)."""
    e = {"jpg": 0, "png": 1, "gif": 2, "webp": 3, "heic": 6}.get(ext, 4)
    fastest, no_thumb, full, pure = 0, 1 << 3, 2 << 3, 1 << 5
    return [e | fastest, e | fastest | pure] if big else [
        e | fastest, e | fastest | pure, e | no_thumb, e | full | pure]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main(argv):
    if len(argv) == 3 and argv[1] == "--files":
        os.makedirs(argv[2], exist_ok=True)
        for name, ext, data in files()[0]:
            write(os.path.join(argv[2], f"{name}.{ext}"), data)
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = argv[1]
    for target in ("decode", "exif", "thumbnail"):
        os.makedirs(os.path.join(root, target), exist_ok=True)
    seeds, thumb = files()
    for name, ext, data in seeds:
        for sel in selectors(ext, len(data) > 4096):
            write(os.path.join(root, "decode", f"{name}-{sel:02x}"), bytes([sel]) + data)
        write(os.path.join(root, "exif", f"{name}-00"), b"\0" + data)
    # TIFF structures wrapped in APP1 by the exif target (selector bit 7).
    for i, t in enumerate([camera_tiff(1), camera_tiff(6, big_endian=True),
                           camera_tiff(8, jpeg(16, 16), gps=False),
                           tiff([(0x0112, SHORT, [3])])]):
        write(os.path.join(root, "exif", f"tiff-{i}-80"), b"\x80" + t)
    # Thumbnail target: bit 0 codec, bit 1 clear = bytes are the IFD1 thumbnail (orientation in
    # bits 2-4, plus one), set = bytes are the whole TIFF.
    for sel in (0x00, 0x01, 0x14, 0x1D):
        write(os.path.join(root, "thumbnail", f"thumb-{sel:02x}"), bytes([sel]) + thumb)
    gray_thumb = jpeg(*THUMB_SIZE, gray=True, texture=False)
    write(os.path.join(root, "thumbnail", "thumb-gray-00"), b"\x00" + gray_thumb)
    small = jpeg(172, 129, texture=False)  # too small: refused before decoding
    write(os.path.join(root, "thumbnail", "thumb-small-01"), b"\x01" + small)
    for sel in (0x02, 0x03):
        write(os.path.join(root, "thumbnail", f"tiff-{sel:02x}"), bytes([sel]) + camera_tiff(6, thumb))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
