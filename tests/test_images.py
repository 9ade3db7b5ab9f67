"""Preprocessing a user's image as MNIST's digits were made, and what the network answers for it.

The main check: held-out MNIST digits rendered as a user's image would arrive (large, black on
white, off-centre, with alpha, JPEG, as a photo) are classified as their original 28x28 digit, by a
`best`-preset network trained on the rest of the embedded sample.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from mnistflow.data.parquet_file import Digits
from mnistflow.data.prepare import normalise, split
from mnistflow.data.sources import load_sample
from mnistflow.own_digits.image_file import read_image
from mnistflow.own_digits.images import BOX, CENTRE, MAX_SIDE, SIDE, centre_of_mass, to_mnist
from mnistflow.plumbing.errors import DataError
from mnistflow.settings.presets import PRESETS
from mnistflow.training import network
from mnistflow.training.train import train
from user_images import jpeg, larger, on_canvas, on_paper, photo, transparent, user_image

N_RENDERED = 200  # held-out digits per rendering


@pytest.fixture(scope="module")
def sample() -> Digits:
    return load_sample()


@pytest.fixture(scope="module")
def sample_split(sample: Digits) -> dict[str, np.ndarray]:
    return split(sample)


@pytest.fixture(scope="module")
def best_model(sample_split: dict[str, np.ndarray]) -> network.Params:
    """The `best` preset trained on the sample's 4,000 training rows; 12 epochs instead of 40 keep it
    to a few seconds (0.946 test accuracy on the 1,000 held-out rows, against 0.962 with 40)."""
    hp = replace(PRESETS["best"], epochs=12)
    params, _ = train(sample_split["X_train"], sample_split["Y_train"], hp)
    return params


@pytest.fixture(scope="module")
def held_out(sample_split: dict[str, np.ndarray]) -> np.ndarray:
    """The first N_RENDERED held-out digits as uint8 (n, 784), as they are in the parquet file."""
    return np.rint(sample_split["X_test"][:N_RENDERED] * 255).astype(np.uint8)


def _rng_pos(rng: np.random.Generator, room: tuple[int, int]) -> tuple[int, int]:
    return int(rng.integers(0, room[0])), int(rng.integers(0, room[1]))


# each takes a (784,) uint8 digit and a random generator (for positions and noise)
RENDERINGS: dict[str, Callable[[np.ndarray, np.random.Generator], Image.Image]] = {
    "upscaled-200px": lambda d, rng: larger(d, 200),
    "black-on-white": lambda d, rng: on_paper(larger(d, 200)),
    "off-centre": lambda d, rng: on_canvas(on_paper(larger(d, 160)), (420, 300), _rng_pos(rng, (260, 140))),
    "rgb-with-alpha": lambda d, rng: transparent(larger(d, 200)),
    "jpeg": lambda d, rng: jpeg(on_paper(larger(d, 200)), quality=60),
    "photo": lambda d, rng: photo(on_canvas(on_paper(larger(d, 160)), (320, 240), _rng_pos(rng, (160, 80))),
                                  rng),
    "all-at-once": user_image,
}


@pytest.mark.parametrize("rendering", list(RENDERINGS))
def test_rendered_digits_are_classified_as_the_original_digit(
    best_model: network.Params, held_out: np.ndarray, rendering: str
) -> None:
    rng = np.random.default_rng(0)
    X = np.stack([to_mnist(RENDERINGS[rendering](d, rng)).reshape(-1) for d in held_out])  # (n, 784)
    original = network.predict(best_model, normalise(held_out))
    agreement = float(np.mean(network.predict(best_model, X) == original))
    assert agreement >= 0.95, f"{rendering}: {agreement:.1%} classified as the original"


@pytest.mark.parametrize("rendering", ["off-centre", "photo", "all-at-once"])
def test_centre_of_mass_is_within_half_a_pixel_of_the_centre(held_out: np.ndarray, rendering: str) -> None:
    rng = np.random.default_rng(1)
    for digit in held_out[:50]:
        row, col = centre_of_mass(to_mnist(RENDERINGS[rendering](digit, rng)))
        assert abs(row - CENTRE[0]) <= 0.5 and abs(col - CENTRE[1]) <= 0.5, (row, col)


def test_the_centre_is_where_mnist_digits_have_theirs(sample: Digits) -> None:
    digits = sample.pixels.reshape(-1, SIDE, SIDE).astype(np.float64)  # (5000, 28, 28)
    total = digits.sum(axis=(1, 2))  # (5000,)
    centres = np.stack([digits.sum(axis=2) @ np.arange(SIDE) / total,
                        digits.sum(axis=1) @ np.arange(SIDE) / total], axis=1)  # (5000, 2) row, col
    assert np.allclose(centres[:3], [centre_of_mass(d) for d in digits[:3]])
    assert np.allclose(centres.mean(axis=0), CENTRE, atol=0.05)
    assert np.all(np.abs(centres - CENTRE) <= 0.5)  # MNIST moved its digits by whole pixels too


def _bar(width: int, height: int, size: tuple[int, int] = (300, 200)) -> Image.Image:
    """A black bar of width x height pixels on white, away from the corner."""
    image = Image.new("L", size, 255)
    image.paste(0, (40, 30, 40 + width, 30 + height))
    return image


def _ink_size(pixels: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(pixels.any(axis=1)), np.flatnonzero(pixels.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


@pytest.mark.parametrize(("width", "height", "expected"),
                         [(30, 150, (20, 4)), (150, 30, (4, 20)), (80, 80, (20, 20))],
                         ids=["tall", "wide", "square"])
def test_longer_side_becomes_20_pixels_keeping_the_aspect_ratio(
    width: int, height: int, expected: tuple[int, int]
) -> None:
    pixels = to_mnist(_bar(width, height))
    assert pixels.shape == (SIDE, SIDE) and pixels.dtype == np.float32
    assert _ink_size(pixels) == expected
    assert max(expected) == BOX


def test_output_is_scaled_to_0_1_as_prepare_does(held_out: np.ndarray) -> None:
    pixels = to_mnist(larger(held_out[0]))
    as_bytes = np.rint(pixels * 255).astype(np.uint8)
    assert np.array_equal(pixels, normalise(as_bytes))
    assert pixels.max() == 1.0 and pixels.min() == 0.0


def test_dark_on_light_and_light_on_dark_give_the_same_digit(held_out: np.ndarray) -> None:
    white_on_black = to_mnist(larger(held_out[3]))
    black_on_white = to_mnist(on_paper(larger(held_out[3])))
    assert np.abs(white_on_black - black_on_white).max() <= 1 / 255


def _as_mode(image: Image.Image, mode: str) -> Image.Image:
    """A black-on-white L image in another mode, as a file in that mode would be read."""
    if mode == "I;16":
        return Image.fromarray((np.asarray(image, dtype=np.uint16) * 257).astype(np.uint16))
    if mode == "RGBA-transparent-black":  # a paint program's export: black ink, transparent black paper
        rgba = Image.new("RGBA", image.size, (0, 0, 0, 0))
        rgba.putalpha(Image.eval(image, lambda v: 255 - v))
        return rgba
    if mode == "LA":
        la = image.convert("LA")
        la.putalpha(255)
        return la
    return image.convert(mode, dither=Image.Dither.NONE)  # "1": black below 128, else white


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "RGBA-transparent-black", "LA", "P", "CMYK",
                                  "I;16", "1"])
def test_every_image_mode_gives_the_same_digit(held_out: np.ndarray, mode: str) -> None:
    image = on_paper(larger(held_out[5])).convert("L")
    expected = to_mnist(image)
    got = to_mnist(_as_mode(image, mode))
    tolerance = 0.6 if mode == "1" else 2 / 255  # "1" is black or white only: the edges differ
    assert np.abs(got - expected).max() <= tolerance, mode
    assert centre_of_mass(got) == pytest.approx(centre_of_mass(expected), abs=0.3)


def _save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".gif", ".tif", ".webp"])
def test_formats_pillow_reads_are_read(tmp_path: Path, held_out: np.ndarray, suffix: str) -> None:
    image = on_paper(larger(held_out[7]))
    path = _save(image if suffix != ".gif" else image.convert("P"), tmp_path / f"digit{suffix}")
    assert np.abs(to_mnist(read_image(path)) - to_mnist(image)).mean() < 0.02


def test_first_frame_of_an_animation_is_used(tmp_path: Path, held_out: np.ndarray) -> None:
    first, blank = on_paper(larger(held_out[2])).convert("P"), Image.new("P", (200, 200), 255)
    path = _save(first, tmp_path / "anim.gif", save_all=True, append_images=[blank])
    assert np.abs(to_mnist(read_image(path)) - to_mnist(first)).max() <= 1 / 255


def test_a_photo_taken_sideways_is_turned_upright(tmp_path: Path, held_out: np.ndarray) -> None:
    upright = on_paper(larger(held_out[4]))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the stored pixels must be turned 90 degrees clockwise for display
    path = _save(upright.rotate(90, expand=True), tmp_path / "sideways.jpg", exif=exif, quality=95)
    assert np.abs(to_mnist(read_image(path)) - to_mnist(upright)).mean() < 0.02


def _truncated(tmp_path: Path) -> Path:
    data = (ROOT / "examples" / "images" / "4-photo.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 3])
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "absent.png", "absent.png: file not found"),
        (lambda tmp: tmp, ": a folder, not an image file"),
        (lambda tmp: _write(tmp / "notes.png", b"just text, not a PNG\n"),
         "notes.png: not an image (Pillow cannot read this file format)"),
        (lambda tmp: _write(tmp / "empty.png", b""), "empty.png: not an image"),
        (_truncated, "cut.jpg: truncated or damaged image ("),
    ],
    ids=["missing", "folder", "not-an-image", "zero-bytes", "truncated"],
)
def test_unreadable_files_are_refused_naming_the_file(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(DataError, match=re.escape(message)) as info:
        read_image(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe with no writer: opening it to read would wait forever. Should that regress, a
    watchdog opens it to write after 5 s, so that the test fails on the message instead of hanging."""
    path = tmp_path / "pipe.png"
    os.mkfifo(path)

    def unblock() -> None:
        with contextlib.suppress(OSError):  # non-blocking: ENXIO unless a reader waits; it lets it go
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    watchdog = threading.Timer(5, unblock)
    watchdog.start()
    yield path
    watchdog.cancel()


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock.png"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        yield path


@pytest.mark.parametrize(
    ("special", "message"),
    [("fifo", "pipe.png: a named pipe (FIFO), not an image file"),
     ("unix_socket", "sock.png: a socket, not an image file"),
     ("device", "/dev/null: a character device, not an image file")],
    ids=["fifo", "socket", "device"],
)
def test_special_files_are_refused_without_being_read(
    request: pytest.FixtureRequest, special: str, message: str
) -> None:
    path = Path("/dev/null") if special == "device" else request.getfixturevalue(special)
    with pytest.raises(DataError, match=re.escape(message)):
        read_image(path)


def _float_digit(digit: np.ndarray, bad: float, size: tuple[int, int] = (60, 50)) -> Image.Image:
    """A float (mode F) image in [0, 1]: a digit on black, and one pixel ``bad`` in a corner."""
    grey = np.zeros(size[::-1], dtype=np.float32)  # (h, w)
    grey[10:38, 10:38] = digit.reshape(28, 28) / 255
    grey[-1, -1] = bad
    return Image.fromarray(grey)


@pytest.mark.parametrize(
    ("bad", "size"),
    [(np.nan, (60, 50)), (np.inf, (60, 50)), (-np.inf, (60, 50)), (np.nan, (MAX_SIDE + 100, 40))],
    ids=["nan", "inf", "minus-inf", "nan-in-an-image-reduced-first"],
)
def test_a_float_image_with_nan_or_inf_pixels_is_refused(
    tmp_path: Path, held_out: np.ndarray, bad: float, size: tuple[int, int]
) -> None:
    path = _save(_float_digit(held_out[0], bad, size), tmp_path / "float.tif")
    image = read_image(path)
    assert image.mode == "F"
    with pytest.raises(DataError, match=r"^float\.tif: has NaN or infinite pixels"):
        to_mnist(image, "float.tif")


def _wide(digit: Image.Image, scale: float, offset: float, dtype: type[np.generic]) -> Image.Image:
    """A white-on-black grey image with its levels 0..255 as ``offset + scale * level``."""
    levels = offset + scale * np.asarray(digit, dtype=np.float64)  # (h, w)
    return Image.fromarray(levels.astype(dtype))


@pytest.mark.parametrize(
    ("scale", "offset", "dtype"),
    [(4, 0, np.uint16), (257, 0, np.uint16), (4096, 0, np.int32), (1 / 255, 0, np.float32),
     (2 / 255, -1, np.float32), (1, 0, np.float32), (40, -9000, np.float32), (1, 1000, np.float32)],
    ids=["16-bit-png-using-0-1020", "16-bit", "32-bit-using-20-bits", "float-0-1", "float-minus-1-1",
         "float-0-255", "float-negative", "float-1000-1255"],
)
def test_grey_levels_of_more_than_8_bits_are_scaled_by_their_range(
    tmp_path: Path, held_out: np.ndarray, scale: float, offset: float, dtype: type[np.generic]
) -> None:
    digit = larger(held_out[6], 100)
    image = _wide(digit, scale, offset, dtype)
    if dtype == np.uint16:  # as a file: a 16-bit PNG
        image = read_image(_save(image, tmp_path / "wide.png"))
        assert image.mode == "I;16"
    assert np.abs(to_mnist(image) - to_mnist(digit)).max() <= 2 / 255


def test_noise_in_a_16_bit_image_is_no_ink() -> None:
    # levels 1000-1010 of 10 bits: less than 8% of the range, as 8-bit noise of a few levels is
    noise = np.random.default_rng(0).integers(1000, 1011, size=(50, 60)).astype(np.uint16)
    with pytest.raises(DataError, match=r"no ink found"):
        to_mnist(Image.fromarray(noise), "noise.png")


@pytest.mark.parametrize("factor", [1.5, 3], ids=["over-the-limit", "over-twice-the-limit"])
def test_decompression_bomb_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, factor: float
) -> None:
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: both are refused. The limit
    # is lowered, rather than a 90-megapixel file written, to keep the test small.
    path = _save(Image.new("L", (100, 100), 255), tmp_path / "huge.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", int(100 * 100 / factor))
    with pytest.raises(DataError, match=r"huge\.png: image too large \(over Pillow's decompression-bomb"):
        read_image(path)


@pytest.mark.parametrize(
    "image",
    [Image.new("L", (120, 90), 255), Image.new("RGB", (50, 50), (200, 30, 30)),
     Image.new("RGBA", (64, 64), (0, 0, 0, 0)), jpeg(Image.new("RGB", (300, 200), (245, 240, 230)))],
    ids=["white", "one-colour", "fully-transparent", "blank-jpeg"],
)
def test_an_image_without_ink_is_refused(image: Image.Image) -> None:
    with pytest.raises(DataError, match=r"^blank\.png: no ink found"):
        to_mnist(image, "blank.png")


def test_faint_ink_is_still_ink() -> None:
    image = _bar(20, 100)
    faint = Image.eval(image, lambda v: 255 - (255 - v) // 8)  # grey 224 on white
    assert _ink_size(to_mnist(faint)) == _ink_size(to_mnist(image))


def test_large_photo_is_reduced_first(held_out: np.ndarray) -> None:
    big = on_canvas(on_paper(larger(held_out[9], 1500)), (3000, 2000), (700, 300))
    small = on_canvas(on_paper(larger(held_out[9], 500)), (1000, 667), (233, 100))
    assert np.abs(to_mnist(big) - to_mnist(small)).mean() < 0.02


def test_example_images_are_classified_as_the_digit_in_their_name(best_model: network.Params) -> None:
    files = sorted((ROOT / "examples" / "images").iterdir())
    X = np.stack([to_mnist(read_image(f), f).reshape(-1) for f in files])
    answers = network.predict(best_model, X)
    expected = [int(f.name[0]) for f in files]
    assert len(files) == 10 and list(answers) == expected

