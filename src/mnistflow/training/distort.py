"""Elastic and affine distortions of training digits (Simard, Steinkraus and Platt, "Best practices
for convolutional neural networks applied to visual document analysis", ICDAR 2003), drawn anew for
every image each epoch.

Every output pixel p = (y, x) reads its image once, at the point

    s(p) = c + M (p - c) + alpha * (G U G)(p)        c = (side/2, side/2), the centre
    M    = A^-1,  A = f R(theta) H(h)                 the affine map, inverted: where p comes from

- **elastic**: U is uniform(-1, 1) noise (in steps of 2^-15), one (side, side) field per image for
  each of the two components (y, x); G is a Gaussian of std ``elastic_sigma`` as a (side, side)
  matrix, so G U G smooths the noise along y and along x, and ``elastic_alpha`` scales it to pixels
  (Simard: sigma 4, alpha 34: each component's std is 1.4 pixels in the middle of the frame,
  varying smoothly across the digit);
- **rotation** R(theta) = [[cos, -sin], [sin, cos]] on (y, x), theta uniform in +-``rotation``
  degrees (y points down, so theta > 0 turns the digit anticlockwise); **scale**: the digit's size times
  f, uniform in 1 +- ``scale``; **shear** H(h) = [[1, 0], [h, 1]]: each row moved sideways by h
  times its distance from the centre row (x += h y), h uniform in +-``shear``.

The value at s(p) is interpolated bilinearly between the four nearest pixels; outside the frame the
image is 0 (background). One sampling for all of it, so a digit is blurred once, not once per
transform. c is where MNIST puts a digit's centre of mass (see :func:`mnistflow.own_digits.images.to_mnist`),
so the affine part turns and resizes a digit about its centre of mass.

A transform of strength 0 is off: it draws nothing and is exactly the identity (with all four off,
the images are copied). Images are distorted CHUNK_ROWS at a time, every array of a chunk in float32
and a few MB, so the work stays in cache; for each chunk the generator draws the elastic noise, then
the angles, the size factors and the shears (those that are on), in this order, so distorting rows
in pieces of whole chunks draws exactly what one call draws.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from mnistflow.training.shifts import image_side

__all__ = [
    "CHUNK_ROWS",
    "Distortions",
    "Work",
    "affine_parameters",
    "bilinear",
    "distort_rows",
    "distortion_rng",
    "elastic_fields",
    "gaussian_matrix",
    "sampling_matrices",
    "sampling_points",
]

# images distorted at once: their work arrays (about 40 bytes per pixel) stay in the cache
CHUNK_ROWS = 256
# a spawn key of its own, so that the epochs' generators are children of the run's seed that no other
# use of it draws from ("dist" in ASCII)
_STREAM = 0x64697374


@dataclass(frozen=True)
class Distortions:
    """How strongly each training image is distorted; 0 turns a transform off. The field names are
    those of the settings (:class:`mnistflow.settings.presets.Hyperparams`)."""

    elastic_alpha: float = 0.0  # pixels: scale of the smoothed displacement field (Simard: 34)
    elastic_sigma: float = 4.0  # pixels: std of the Gaussian that smooths it (Simard: 4)
    rotation: float = 0.0  # degrees: turned by up to this much either way
    scale: float = 0.0  # size times a factor uniform in 1 +- scale
    shear: float = 0.0  # rows moved sideways by up to this times their distance from the centre row

    @classmethod
    def of(cls, settings: object) -> Distortions:
        """The distortions of any object with these fields as attributes (e.g. Hyperparams)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    @property
    def on(self) -> bool:
        """True when any transform is on."""
        return bool(self.elastic_alpha or self.rotation or self.scale or self.shear)

    def describe(self) -> str:
        """The transforms that are on, in words: 'elastic (alpha 34, sigma 4), rotation +-10 deg'."""
        parts = []
        if self.elastic_alpha:
            parts.append(f"elastic (alpha {self.elastic_alpha:g}, sigma {self.elastic_sigma:g})")
        if self.rotation:
            parts.append(f"rotation +-{self.rotation:g} deg")
        if self.scale:
            parts.append(f"scale 1 +- {self.scale:g}")
        if self.shear:
            parts.append(f"shear +-{self.shear:g}")
        return ", ".join(parts) or "none"


def distortion_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator of the distortions of epoch ``epoch`` of a run seeded ``seed``: a child of
    that seed of its own, apart from the run's one generator (numpy.random.default_rng(seed)), so
    that an epoch's distortions are the same whenever and on whichever thread they are made."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM, epoch)))


@dataclass
class Work:
    """The arrays of a chunk of m images, allocated once for all the chunks of a call: a fresh array
    per chunk would cost page faults on every touch (the allocator gives big blocks back to the
    system), more than the arithmetic on them."""

    points: np.ndarray  # (2, side, m, side) the displacements, then the points sampled, then weights
    along_x: np.ndarray  # (side * m, side) the noise smoothed along x
    padded: np.ndarray  # (m, side + 3, side + 3) the images in a frame of zeros
    corner: np.ndarray  # (2, side, m, side) the top-left pixel around each point
    first_pixel: np.ndarray  # (1, m, 1) flat index of each padded image's first pixel
    index32: np.ndarray  # (side, m, side) int32
    index: np.ndarray  # (side, m, side) intp: flat index of each point's top-left pixel
    taps: np.ndarray  # (4, side, m, side) the four pixels around each point

    @classmethod
    def allocate(cls, m: int, side: int) -> Work:
        width = side + 3
        first = (np.arange(m, dtype=np.float32) * np.float32(width * width))[None, :, None]
        return cls(np.empty((2, side, m, side), np.float32), np.empty((side * m, side), np.float32),
                   np.zeros((m, width, width), np.float32), np.empty((2, side, m, side), np.float32),
                   first, np.empty((side, m, side), np.int32), np.empty((side, m, side), np.intp),
                   np.empty((4, side, m, side), np.float32))


def gaussian_matrix(side: int, sigma: float) -> np.ndarray:
    """G (side, side), G[i, j] = g(i - j) with g a Gaussian of std sigma, cut at 4 sigma and
    normalised: G @ v smooths v along its first axis, zero outside the frame (exactly
    scipy.ndimage.gaussian_filter1d(v, sigma, mode="constant"))."""
    radius = int(4 * sigma + 0.5)  # as scipy's truncate=4
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)  # (2r + 1,)
    offset = np.arange(side)[:, None] - np.arange(side)[None, :]  # (side, side) i - j
    near = np.abs(offset) <= radius
    return np.where(near, taps[np.where(near, offset + radius, 0)] / taps.sum(), 0.0).astype(np.float32)


def elastic_fields(
    alpha: float, sigma: float, rng: np.random.Generator, out: np.ndarray, work: Work
) -> np.ndarray:
    """out = alpha * G U G for each image and component: U uniform(-1, 1) (side, side).

    out (2, side, m, side) float32. The layout is (component, y, image, x): there, smoothing along x
    is one matrix product on the (side * m, side) rows and along y one on the (side, m * side)
    columns, with no transposed copy.
    """
    side, m = out.shape[1], out.shape[2]
    G = gaussian_matrix(side, sigma)  # (side, side), symmetric
    # U = J / 2^15, J uniform integers in [-2^15, 2^15): drawing 16 bits is twice as fast as a float
    out[...] = rng.integers(-(2**15), 2**15, out.shape, dtype=np.int16)  # (2, side, m, side) J
    for k in range(2):
        along_x = np.matmul(out[k].reshape(side * m, side), G, out=work.along_x)  # (side m, side) J G
        np.matmul(G * np.float32(alpha / 2**15), along_x.reshape(side, m * side),
                  out=out[k].reshape(side, m * side))  # (side, m side) alpha G U G
    return out


def affine_parameters(
    m: int, d: Distortions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each image's angle theta (radians, uniform in +-d.rotation degrees), size factor f (uniform in
    1 +- d.scale) and shear h (uniform in +-d.shear), each (m,); one that is off draws nothing and
    is the identity (0, 1, 0)."""
    theta = np.deg2rad(rng.uniform(-d.rotation, d.rotation, m)) if d.rotation else np.zeros(m)
    factor = 1 + rng.uniform(-d.scale, d.scale, m) if d.scale else np.ones(m)
    shear = rng.uniform(-d.shear, d.shear, m) if d.shear else np.zeros(m)
    return theta, factor, shear


def sampling_matrices(theta: np.ndarray, factor: np.ndarray, shear: np.ndarray) -> np.ndarray:
    """M = A^-1 = (1/f) H(-h) R(-theta), (m, 2, 2) on (y, x) offsets: where each output pixel comes
    from when the image is turned by theta, its rows sheared by h and its size times f.

    R(theta) = [[cos, -sin], [sin, cos]], H(h) = [[1, 0], [h, 1]] (x += h y), so
    M = (1/f) [[cos, sin], [-h cos - sin, cos - h sin]]; exactly the identity for (0, 1, 0).
    """
    cos, sin = np.cos(theta) / factor, np.sin(theta) / factor  # (m,) each
    M = np.empty((len(theta), 2, 2))  # (m, 2, 2)
    M[:, 0, 0], M[:, 0, 1] = cos, sin
    M[:, 1, 0], M[:, 1, 1] = -shear * cos - sin, cos - shear * sin
    return M.astype(np.float32)


def sampling_points(M: np.ndarray, points: np.ndarray) -> np.ndarray:
    """points += c + M (p - c) for every output pixel p = (y, x): the point each one samples.

    M (m, 2, 2); points (2, side, m, side), (component, y, image, x), holding the elastic
    displacements (or zeros) and updated in place."""
    side = points.shape[1]
    c = np.float32(side / 2)
    g = np.arange(side, dtype=np.float32) - c  # (side,) offsets from the centre
    for k in range(2):  # y, then x
        points[k] += M[:, k, 0][None, :, None] * g[:, None, None] + c  # (side, m, 1): M_k0 (y - c) + c
        points[k] += M[:, k, 1][None, :, None] * g[None, None, :]  # (1, m, side): M_k1 (x - c)
    return points


def bilinear(images: np.ndarray, points: np.ndarray, out: np.ndarray, work: Work) -> np.ndarray:
    """out[i, y, x] = image i at the point points[:, y, i, x], interpolated between its four nearest
    pixels; 0 outside the frame.

    images (m, side, side); points (2, side, m, side), overwritten; out (m, side, side), any strides.
    An integer point reads its pixel exactly (the other taps are weighed by exactly 0).
    """
    side = images.shape[1]
    width = side + 3  # the padded side: a frame of zeros, one pixel before and two after
    work.padded[:, 1 : side + 1, 1 : side + 1] = images  # (m, width, width); the frame stays 0
    points += 1  # in the padded frame
    np.clip(points, 0, side + 1, out=points)  # far outside: on the frame, whose four taps are 0
    corner = np.floor(points, out=work.corner)  # (2, side, m, side) the top-left pixel of the four
    points -= corner  # (2, side, m, side) the weights of the bottom and the right pixels, in [0, 1)
    corner[0] *= width
    corner[0] += corner[1]
    corner[0] += work.first_pixel  # (side, m, side) flat index of the top left (exact: below 2^24)
    # float32 -> int32 -> intp: together 3x faster than float32 -> intp
    np.copyto(work.index32, corner[0], casting="unsafe")
    np.copyto(work.index, work.index32)  # (side, m, side)
    flat = work.padded.reshape(-1)
    for tap, shift in zip(work.taps, (0, 1, width, width + 1), strict=True):
        flat[shift:].take(work.index, out=tap, mode="clip")  # (side, m, side) every index is valid
    top, top_right, bottom, bottom_right = work.taps
    wy, wx = points
    top_right -= top
    top_right *= wx
    top += top_right  # (side, m, side) the top row at x: top + wx (top_right - top)
    bottom_right -= bottom
    bottom_right *= wx
    bottom += bottom_right  # the bottom row at x
    bottom -= top
    bottom *= wy
    np.add(top, bottom, out=out.transpose(1, 0, 2))  # (side, m, side) view of out: along y
    return out


def distort_rows(
    X: np.ndarray, rows: np.ndarray, d: Distortions, rng: np.random.Generator, out: np.ndarray
) -> np.ndarray:
    """out[i] = image X[rows[i]] distorted by ``d``: its own random elastic field and affine map.

    X (N, side*side) flattened square images; rows (n,); out (n, side*side), written in full
    (computed in float32). With every transform off, a copy that draws nothing.
    """
    if not d.on:
        return np.take(X, rows, axis=0, out=out)
    side = image_side(X.shape[1])
    work = None
    for start in range(0, len(rows), CHUNK_ROWS):
        part = rows[start : start + CHUNK_ROWS]  # (m,)
        m = len(part)
        if work is None or len(work.padded) != m:  # the first chunk, and a shorter last one
            work = Work.allocate(m, side)
        if d.elastic_alpha:
            elastic_fields(d.elastic_alpha, d.elastic_sigma, rng, work.points, work)  # (2, side, m, side)
        else:
            work.points.fill(0)
        sampling_points(sampling_matrices(*affine_parameters(m, d, rng)), work.points)
        bilinear(X[part].reshape(m, side, side), work.points,
                 out[start : start + m].reshape(m, side, side), work)
    return out
