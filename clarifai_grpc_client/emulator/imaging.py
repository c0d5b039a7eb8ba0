"""Just enough image decoding for the built-in models, with the standard library only.

Decodes PNG (zlib; every colour type, bit depths 1-16, not interlaced), BMP (uncompressed
24/32-bit) and binary or ASCII PPM/PGM into 8-bit RGB pixels. Other formats (JPEG, GIF,
WebP, ...) are recognised by :func:`sniff` for ``image_info`` but not decoded: the colour
model reports a clear per-input failure for them instead of inventing colours.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAX_PIXELS = 16_000_000


class ImageError(ValueError):
    """The bytes are not an image the emulator can decode; the message says why."""


@dataclass(frozen=True)
class ImageHeader:
    format: str  # "PNG", "JPEG", "GIF", "BMP", "PPM", "PGM", "WEBP"
    width: int
    height: int


@dataclass(frozen=True)
class RGBImage:
    width: int
    height: int
    pixels: bytes  # width * height * 3 bytes, row-major RGB


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _pnm_tokens(data: bytes, count: int) -> tuple[list[int], int]:
    """The first ``count`` header numbers of a PNM file (after the magic) and where pixels start."""
    values: list[int] = []
    i = 2
    while len(values) < count:
        while i < len(data) and (data[i:i + 1].isspace() or data[i:i + 1] == b"#"):
            if data[i:i + 1] == b"#":
                while i < len(data) and data[i:i + 1] not in (b"\n", b"\r"):
                    i += 1
            i += 1
        start = i
        while i < len(data) and data[i:i + 1].isdigit():
            i += 1
        if start == i:
            raise ImageError("malformed PNM header")
        values.append(int(data[start:i]))
    return values, i + 1  # one whitespace byte separates the header from the pixels


def sniff(data: bytes) -> ImageHeader | None:
    """Format and size of an image from its first bytes, or None when it is not a known format."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
            w, h = struct.unpack(">II", data[16:24])
            return ImageHeader("PNG", w, h)
        if data.startswith(b"\xff\xd8"):
            size = _jpeg_size(data)
            return ImageHeader("JPEG", *size) if size else ImageHeader("JPEG", 0, 0)
        if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
            w, h = struct.unpack("<HH", data[6:10])
            return ImageHeader("GIF", w, h)
        if data.startswith(b"BM") and len(data) >= 26:
            w, h = struct.unpack("<ii", data[18:26])
            return ImageHeader("BMP", w, abs(h))
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return ImageHeader("WEBP", 0, 0)
        if data[:2] in (b"P2", b"P3", b"P5", b"P6"):
            (w, h), _ = _pnm_tokens(data, 2)
            return ImageHeader("PGM" if data[:2] in (b"P2", b"P5") else "PPM", w, h)
    except (struct.error, ImageError):
        return None
    return None


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"image has no pixels ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise ImageError(f"image of {width}x{height} pixels is larger than the emulator decodes ({MAX_PIXELS} pixels)")


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> bytearray:
    out = bytearray(stride * height)
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        if pos + 1 + stride > len(raw):
            raise ImageError("PNG data is truncated")
        ftype = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 0xFF
        elif ftype != 0:
            raise ImageError(f"PNG row {y} has unknown filter type {ftype}")
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return out


def _samples(row: bytes | bytearray, depth: int, count: int) -> list[int]:
    """``count`` unpacked samples of ``depth`` bits (1, 2, 4, 8 or 16) from one row."""
    if depth == 8:
        return list(row[:count])
    if depth == 16:
        return [row[2 * i] for i in range(count)]  # the high byte is the 8-bit value
    per_byte = 8 // depth
    mask = (1 << depth) - 1
    out = []
    for i in range(count):
        byte = row[i // per_byte]
        shift = 8 - depth * (i % per_byte + 1)
        out.append((byte >> shift) & mask)
    return out


def decode_png(data: bytes) -> RGBImage:
    pos, idat, palette = 8, bytearray(), b""
    header: tuple[int, ...] | None = None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body[:13])
        elif ctype == b"PLTE":
            palette = body
        elif ctype == b"IDAT":
            idat += body
        elif ctype == b"IEND":
            break
    if header is None:
        raise ImageError("PNG has no IHDR chunk")
    width, height, depth, ctype_, _comp, _filt, interlace = header
    _check_size(width, height)
    if interlace:
        raise ImageError("interlaced PNG is not supported by the emulator's decoder")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype_)
    if channels is None or depth not in (1, 2, 4, 8, 16):
        raise ImageError(f"PNG colour type {ctype_} / bit depth {depth} is not valid")
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        raise ImageError(f"PNG data does not decompress: {exc}") from None
    bits_per_pixel = channels * depth
    stride = (width * bits_per_pixel + 7) // 8
    pixels_raw = _unfilter(raw, stride, height, max(1, bits_per_pixel // 8))
    out = bytearray()
    scale = {1: 255, 2: 85, 4: 17, 8: 1, 16: 1}[depth]
    for y in range(height):
        s = _samples(pixels_raw[y * stride:(y + 1) * stride], depth, width * channels)
        if ctype_ == 3:
            for idx in s:
                if 3 * idx + 3 > len(palette):
                    raise ImageError("PNG palette index out of range")
                out += palette[3 * idx:3 * idx + 3]
        elif ctype_ in (0, 4):
            for i in range(0, len(s), channels):
                v = s[i] * scale
                out += bytes((v, v, v))
        else:
            for i in range(0, len(s), channels):
                out += bytes((s[i], s[i + 1], s[i + 2]))
    return RGBImage(width, height, bytes(out))


def decode_bmp(data: bytes) -> RGBImage:
    try:
        offset = struct.unpack("<I", data[10:14])[0]
        width, height, _planes, bpp, compression = struct.unpack("<iiHHI", data[18:34])
    except struct.error:
        raise ImageError("BMP header is truncated") from None
    if bpp not in (24, 32) or compression not in (0, 3):
        raise ImageError(f"only uncompressed 24/32-bit BMP is supported (got {bpp}-bit, compression {compression})")
    bottom_up, height = height > 0, abs(height)
    _check_size(width, height)
    step = bpp // 8
    stride = (width * step + 3) & ~3
    if offset + stride * height > len(data):
        raise ImageError("BMP pixel data is truncated")
    out = bytearray()
    for y in range(height):
        row_index = height - 1 - y if bottom_up else y
        row = data[offset + row_index * stride:offset + row_index * stride + width * step]
        for x in range(0, len(row), step):
            out += bytes((row[x + 2], row[x + 1], row[x]))
    return RGBImage(width, height, bytes(out))


def decode_pnm(data: bytes) -> RGBImage:
    magic = data[:2]
    (width, height, maxval), start = _pnm_tokens(data, 3)
    _check_size(width, height)
    if not 0 < maxval < 65536:
        raise ImageError(f"PNM maxval {maxval} is not valid")
    channels = 3 if magic in (b"P3", b"P6") else 1
    count = width * height * channels
    if magic in (b"P5", b"P6"):
        size = 2 if maxval > 255 else 1
        body = data[start:start + count * size]
        if len(body) < count * size:
            raise ImageError("PNM pixel data is truncated")
        values = list(body) if size == 1 else [int.from_bytes(body[i:i + 2], "big") for i in range(0, len(body), 2)]
    else:
        values = [int(t) for t in data[start - 1:].split()[:count]]
        if len(values) < count:
            raise ImageError("PNM pixel data is truncated")
    scaled = bytes(min(255, v * 255 // maxval) for v in values)
    if channels == 3:
        return RGBImage(width, height, scaled)
    return RGBImage(width, height, bytes(b for v in scaled for b in (v, v, v)))


def decode(data: bytes) -> RGBImage:
    """8-bit RGB pixels of a PNG, BMP or PPM/PGM image; :class:`ImageError` for anything else."""
    header = sniff(data)
    if header is None:
        raise ImageError("the bytes are not an image format the emulator recognises (PNG, BMP, PPM/PGM, JPEG, GIF, WebP)")
    if header.format == "PNG":
        return decode_png(data)
    if header.format == "BMP":
        return decode_bmp(data)
    if header.format in ("PPM", "PGM"):
        return decode_pnm(data)
    raise ImageError(f"{header.format} images are recognised but not decoded by the emulator's stand-in "
                     "models (no image library at run time); send PNG, BMP or PPM bytes")


def encode_png(width: int, height: int, pixels: bytes) -> bytes:
    """An 8-bit RGB PNG of ``pixels`` (for tests and examples: the inverse of :func:`decode_png`)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    stride = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
