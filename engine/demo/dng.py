"""A camera-RAW DNG of a picture, for the demo's RAW+JPEG pair.

The pixels become a 12-bit RGGB Bayer mosaic (as a sensor records the linear light), with the
DNG colour tags that undo it, written by tifffile (PyPI, pure Python, pinned in
make_demo_gallery so the bytes stay the same). LibRaw (rawpy) develops it back to the picture
(correlation 0.99 with the source JPEG, measured 2026-12-07) and `exiftool -validate` accepts
it. Uncompressed, 12-bit values in 16-bit samples (as many cameras store them; tifffile packs
12 bits only with imagecodecs, a large binary package): 2 bytes per pixel.
"""

import struct


def write_dng(rgb, path, make, model, datetime_str):
    """Write `rgb` (uint8 HxWx3 sRGB) as a camera-RAW DNG: a 12-bit RGGB Bayer mosaic
    sampled from the linearised picture, as a sensor with overlapping channels and a
    green-heavy response would record it, plus the DNG colour tags that undo this
    (ColorMatrix1, AsShotNeutral). tifffile writes the TIFF/DNG structure (IFD0 =
    the raw image, uncompressed, 16-bit samples); DateTimeOriginal goes into an
    Exif IFD appended afterwards, where EXIF readers look for it. Deterministic.
    2 bytes per pixel, no compression."""


    import numpy as np
    import tifffile

    srgb_to_xyz = np.array([[0.4124564, 0.3575761, 0.1804375],  # linear sRGB (D65) -> XYZ
                            [0.2126729, 0.7151522, 0.0721750],
                            [0.0193339, 0.1191920, 0.9503041]])
    crosstalk = np.array([[0.80, 0.16, 0.04],  # rows sum to 1: white stays neutral
                          [0.10, 0.80, 0.10],
                          [0.03, 0.17, 0.80]])
    neutral = np.array([0.50, 1.0, 0.66])  # raw R,G,B of a white object = AsShotNeutral
    black, white = 256, 4095

    h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2  # whole 2x2 Bayer cells
    v = rgb[:h, :w].astype(np.float64) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)  # undo the sRGB curve
    cam_from_srgb = crosstalk * neutral[:, None]
    cam = np.einsum("ij,hwj->hwi", cam_from_srgb, lin)
    raw = np.rint(black + np.clip(cam, 0, 1) * (white - black)).astype(np.uint16)
    cfa = np.empty((h, w), np.uint16)
    cfa[0::2, 0::2] = raw[0::2, 0::2, 0]  # R G
    cfa[0::2, 1::2] = raw[0::2, 1::2, 1]  # G B
    cfa[1::2, 0::2] = raw[1::2, 0::2, 1]
    cfa[1::2, 1::2] = raw[1::2, 1::2, 2]
    color_matrix = cam_from_srgb @ np.linalg.inv(srgb_to_xyz)  # XYZ (D65) -> camera

    def srational(values, den=10000):
        return [x for val in values for x in (int(round(float(val) * den)), den)]

    tags = [  # (code, TIFF type, count, value, writeonce); tifffile sorts them
        (271, 2, 0, make, True),  # Make
        (272, 2, 0, model, True),  # Model
        (274, 3, 1, 1, True),  # Orientation: sensor pixels are upright
        (33421, 3, 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, 1, 4, (0, 1, 1, 2), True),  # CFAPattern: R G / G B
        (34664, 4, 1, 0, True),  # placeholder, becomes the ExifIFD pointer (34665) below
        (50706, 1, 4, (1, 4, 0, 0), True),  # DNGVersion 1.4
        (50707, 1, 4, (1, 1, 0, 0), True),  # DNGBackwardVersion 1.1
        (50708, 2, 0, f"{make} {model}", True),  # UniqueCameraModel
        (50710, 1, 3, (0, 1, 2), True),  # CFAPlaneColor R,G,B
        (50711, 3, 1, 1, True),  # CFALayout: rectangular
        (50714, 3, 1, black, True),  # BlackLevel
        (50717, 3, 1, white, True),  # WhiteLevel
        (50721, 10, 9, srational(color_matrix.ravel()), True),  # ColorMatrix1
        (50728, 5, 3, srational(neutral), True),  # AsShotNeutral
        (50778, 3, 1, 21, True),  # CalibrationIlluminant1: D65
    ]
    tifffile.imwrite(path, cfa, photometric="cfa", subfiletype=0,
                     datetime=datetime_str, software=f"{model} (tifffile)", metadata=None,
                     resolution=(72, 72), resolutionunit="inch", extratags=tags)

    # tifffile will not write an ExifIFD pointer itself, so append the Exif IFD (ExifVersion,
    # DateTimeOriginal, DateTimeDigitized) and turn the placeholder entry into the pointer.
    dt = datetime_str.encode("ascii") + b"\0"  # "YYYY:MM:DD HH:MM:SS\0", 20 bytes
    with open(path, "r+b") as f:
        f.seek(0, 2)
        pad = -f.tell() % 4
        start = f.tell() + pad
        data = start + 2 + 3 * 12 + 4 + 2  # strings after the IFD, word-aligned
        ifd = struct.pack("<H", 3)
        ifd += struct.pack("<HHI4s", 0x9000, 7, 4, b"0231")
        ifd += struct.pack("<HHII", 0x9003, 2, len(dt), data)
        ifd += struct.pack("<HHII", 0x9004, 2, len(dt), data + len(dt))
        ifd += struct.pack("<I", 0) + b"\0\0" + dt + dt
        f.write(b"\0" * pad + ifd)
        f.seek(0)
        assert f.read(4) == b"II*\0"
        ifd0 = struct.unpack("<I", f.read(4))[0]
        f.seek(ifd0)
        for i in range(struct.unpack("<H", f.read(2))[0]):
            code, typ, count = struct.unpack("<HHI", f.read(8))
            if code == 34664:
                f.seek(ifd0 + 2 + 12 * i)
                f.write(struct.pack("<HHII", 34665, 4, 1, start))
                break
            f.seek(4, 1)
        else:
            raise RuntimeError("ExifIFD placeholder not found")
